using System.Globalization;
using VectorStore.Filtering;

namespace VectorStore.Evaluation;

/// <summary>
/// Field values read from a tab-separated file: a header row of field names, then row i for vector i. Cells are
/// parsed by the field's declared type — int and double in invariant culture, bool <c>true</c>/<c>false</c>,
/// timestamp ISO 8601 (UTC when no offset), tags separated by <c>,</c>; an empty cell is no value. Errors are
/// <see cref="VectorFileException"/>s naming the file, row and column. Immutable once read.
/// </summary>
public sealed class FieldTable
{
    private FieldTable(IReadOnlyList<FieldDefinition> fields, IReadOnlyDictionary<string, FieldValue>[] rows)
    {
        Fields = fields;
        Rows = rows;
    }

    /// <summary>The fields read, in header order.</summary>
    public IReadOnlyList<FieldDefinition> Fields { get; }

    /// <summary>Each row's values (empty dictionary: none).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, FieldValue>> Rows { get; }

    /// <summary>
    /// Reads <paramref name="path"/>. <paramref name="declared"/> gives types; a column it does not name is a
    /// keyword field when <paramref name="undeclaredAsKeyword"/>, else an error. When <paramref name="only"/> is given,
    /// other columns are skipped unread (a text column need not fit a keyword's limits).
    /// </summary>
    public static FieldTable Read(string path, IReadOnlyList<FieldDefinition>? declared, bool undeclaredAsKeyword, ISet<string>? only = null)
    {
        using var reader = new StreamReader(path);
        string? header = reader.ReadLine();
        if (header is null) throw new VectorFileException(path, -1, "empty file: expected a header row of field names");
        var names = header.Split('\t');
        var columns = new List<(int Column, FieldDefinition Field)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int c = 0; c < names.Length; c++)
        {
            string name = names[c].Trim();
            if (!seen.Add(name)) throw new VectorFileException(path, -1, $"column '{name}' appears twice in the header");
            if (only is not null && !only.Contains(name)) continue;
            var field = declared?.FirstOrDefault(f => f.Name == name);
            if (field is null)
            {
                if (!undeclaredAsKeyword)
                    throw new VectorFileException(path, -1, $"column '{name}' is not a declared field (declared: {(declared is { Count: > 0 } ? string.Join(", ", declared) : "none")})");
                if (!FieldDefinition.IsValidName(name)) throw new VectorFileException(path, -1, $"column '{name}' is not a valid field name");
                field = new FieldDefinition(name, FieldType.Keyword);
            }
            columns.Add((c, field));
        }
        if (only is not null)
            foreach (var name in only)
                if (!seen.Contains(name)) throw new VectorFileException(path, -1, $"no column '{name}' in the header ({string.Join(", ", names)})");
        var rows = new List<IReadOnlyDictionary<string, FieldValue>>();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            long row = rows.Count;
            var cells = line.Split('\t');
            if (cells.Length != names.Length) throw new VectorFileException(path, row, $"{cells.Length} cells, the header has {names.Length}");
            var values = new Dictionary<string, FieldValue>(StringComparer.Ordinal);
            foreach (var (c, field) in columns)
            {
                if (cells[c].Length == 0) continue;
                try
                {
                    values[field.Name] = Parse(field.Type, cells[c]);
                }
                catch (Exception e) when (e is FormatException or OverflowException or InvalidArgumentException)
                {
                    throw new VectorFileException(path, row, $"column '{field.Name}' ({field.Type.Name()}): '{Shorten(cells[c])}' — {e.Message}");
                }
            }
            rows.Add(values);
        }
        return new FieldTable(columns.Select(c => c.Field).ToArray(), rows.ToArray());
    }

    /// <summary>One cell as a value of <paramref name="type"/>.</summary>
    public static FieldValue Parse(FieldType type, string cell) => type switch
    {
        FieldType.Keyword => FieldValue.Keyword(cell),
        FieldType.Tags => FieldValue.Tags(cell.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)),
        FieldType.Int => FieldValue.Int(long.Parse(cell, NumberStyles.Integer, CultureInfo.InvariantCulture)),
        FieldType.Double => FieldValue.Double(double.Parse(cell, NumberStyles.Float, CultureInfo.InvariantCulture)),
        FieldType.Bool => cell.Trim().ToLowerInvariant() switch
        {
            "true" => FieldValue.Bool(true),
            "false" => FieldValue.Bool(false),
            _ => throw new FormatException("expected true or false"),
        },
        FieldType.Timestamp => FieldValue.Timestamp(DateTimeOffset.Parse(cell, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal)),
        _ => throw new InvalidArgumentException($"unknown field type {(int)type}"),
    };

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
