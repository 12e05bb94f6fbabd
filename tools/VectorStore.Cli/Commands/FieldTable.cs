using System.Globalization;
using System.Text;
using VectorStore.Filtering;

namespace VectorStore.Cli.Commands;

/// <summary>
/// The <c>load --fields F.tsv</c> file: a header row of field names, then one row per vector of <c>--vectors</c>
/// (row i belongs to vector i), cells tab-separated. Values are read per the collection's declared type: int and
/// double in the invariant culture, bool <c>true</c>/<c>false</c>, timestamp ISO 8601 (no offset = UTC), tags split at
/// <c>,</c>, keyword as written; an empty cell means no value. Errors name the file, line and column.
/// </summary>
public static class FieldTable
{
    /// <summary>
    /// Reads <paramref name="path"/>: one field set per data row (null when the row has no value), checked against
    /// <paramref name="declared"/>; throws <see cref="InvalidArgumentException"/>.
    /// </summary>
    public static IReadOnlyDictionary<string, FieldValue>?[] Read(string path, IReadOnlyList<FieldDefinition>? declared)
    {
        if (!File.Exists(path)) throw new InvalidArgumentException($"{path}: file not found");
        var types = (declared ?? []).ToDictionary(f => f.Name, f => f.Type, StringComparer.Ordinal);
        using var reader = new StreamReader(path, Encoding.UTF8);
        var header = reader.ReadLine() is { } h ? Cells(h) : throw new InvalidArgumentException($"{path}: empty file; expected a header row of field names");
        var columns = new (string Name, FieldType Type)[header.Length];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int c = 0; c < header.Length; c++)
        {
            var name = header[c];
            if (!types.TryGetValue(name, out var type))
                throw new InvalidArgumentException(types.Count == 0
                    ? $"{path}: column '{name}' is not a declared field: the collection declares no fields (create --field NAME:TYPE)"
                    : $"{path}: column '{name}' is not a declared field; the collection declares {string.Join(", ", declared!)}");
            if (!seen.Add(name)) throw new InvalidArgumentException($"{path}: column '{name}' appears twice in the header");
            columns[c] = (name, type);
        }
        var rows = new List<IReadOnlyDictionary<string, FieldValue>?>();
        int lineNo = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            var cells = Cells(line);
            if (cells.Length != columns.Length)
            {
                // A final empty line is a trailing newline, not a row.
                if (line.Length == 0 && reader.Peek() < 0) break;
                throw new InvalidArgumentException($"{path}:{lineNo}: {cells.Length} cells, but the header has {columns.Length}");
            }
            Dictionary<string, FieldValue>? row = null;
            for (int c = 0; c < cells.Length; c++)
            {
                if (cells[c].Length == 0) continue;
                FieldValue value;
                try
                {
                    value = Parse(cells[c], columns[c].Type);
                }
                catch (InvalidArgumentException e)
                {
                    throw new InvalidArgumentException($"{path}:{lineNo}: column '{columns[c].Name}' ({columns[c].Type.Name()}): {e.Message}");
                }
                (row ??= new Dictionary<string, FieldValue>(StringComparer.Ordinal))[columns[c].Name] = value;
            }
            rows.Add(row);
        }
        return [.. rows];
    }

    private static string[] Cells(string line) => line.TrimEnd('\r').Split('\t');

    /// <summary>One cell as a value of <paramref name="type"/>.</summary>
    public static FieldValue Parse(string text, FieldType type)
    {
        switch (type)
        {
            case FieldType.Keyword:
                return FieldValue.Keyword(text);
            case FieldType.Tags:
                return FieldValue.Tags(text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            case FieldType.Int:
                return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long i)
                    ? FieldValue.Int(i) : throw new InvalidArgumentException($"'{text}' is not a 64-bit integer");
            case FieldType.Double:
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d)
                    ? FieldValue.Double(d) : throw new InvalidArgumentException($"'{text}' is not a finite number (invariant culture, e.g. 1.5)");
            case FieldType.Bool:
                return text.Equals("true", StringComparison.OrdinalIgnoreCase) ? FieldValue.Bool(true)
                    : text.Equals("false", StringComparison.OrdinalIgnoreCase) ? FieldValue.Bool(false)
                    : throw new InvalidArgumentException($"'{text}' is not true or false");
            case FieldType.Timestamp:
                return FieldValue.ParseTimestamp(text);
            default:
                throw new InvalidArgumentException($"unknown field type {(int)type}");
        }
    }

    /// <summary>
    /// The largest record's field values on the wire (data-format.md §5.7: count, then per value its name, type byte and
    /// form), so <c>load</c> can size batches for a server's frame limit.
    /// </summary>
    public static int MaxWireBytes(IReadOnlyList<IReadOnlyDictionary<string, FieldValue>?> rows)
    {
        long max = 0;
        foreach (var row in rows)
        {
            if (row is null) continue;
            long size = 2;
            foreach (var (name, value) in row)
                size += 2 + name.Length + 1 + value.Type switch
                {
                    FieldType.Keyword => 2 + Encoding.UTF8.GetByteCount(value.AsKeyword()),
                    FieldType.Tags => 2 + value.AsTags().Sum(t => 2 + Encoding.UTF8.GetByteCount(t)),
                    _ => 8,
                };
            max = Math.Max(max, size);
        }
        return (int)Math.Min(max, int.MaxValue / 2);
    }

    /// <summary>A field set as JSON values: keyword and timestamp (ISO 8601) as strings, tags as an array, numbers and bools as such.</summary>
    public static Dictionary<string, object?> ToJson(IReadOnlyDictionary<string, FieldValue> fields)
    {
        var json = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, v) in fields.OrderBy(p => p.Key, StringComparer.Ordinal))
            json[name] = v.Type switch
            {
                FieldType.Keyword => v.AsKeyword(),
                FieldType.Tags => v.AsTags().ToArray(),
                FieldType.Int => v.AsInt(),
                FieldType.Double => v.AsDouble(),
                FieldType.Bool => v.AsBool(),
                FieldType.Timestamp => FieldValue.FormatTimestamp(v.AsTimestampMicros()),
                _ => null,
            };
        return json;
    }
}
