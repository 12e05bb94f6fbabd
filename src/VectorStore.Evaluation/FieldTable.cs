using System.Globalization;
using VectorStore.Filtering;

namespace VectorStore.Evaluation;

/// <summary>
/// Field values read from a tab-separated file (<c>load --fields</c>, <c>eval --fields</c>, the filter benchmark): a
/// header row of field names, then row i for vector i. Cells are parsed by the field's type — int and double in the
/// invariant culture, bool <c>true</c>/<c>false</c>, timestamp ISO 8601 (no offset = UTC), tags split at <c>,</c>,
/// keyword as written; an empty cell is no value. Errors are <see cref="InvalidArgumentException"/>s naming the file,
/// line and column. Immutable once read.
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

    /// <summary>Each row's values (an empty dictionary: none).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, FieldValue>> Rows { get; }

    /// <summary>
    /// Reads <paramref name="path"/> whole (<see cref="FieldTableReader"/> reads it a row at a time). <paramref name="declared"/>
    /// gives types; a column it does not name is a keyword field when <paramref name="undeclaredAsKeyword"/>, else an
    /// error naming the declared fields. With <paramref name="only"/>, other columns are skipped unread (a free-text
    /// column need not fit a keyword's limits).
    /// </summary>
    public static FieldTable Read(string path, IReadOnlyList<FieldDefinition>? declared, bool undeclaredAsKeyword, ISet<string>? only = null)
    {
        using var reader = FieldTableReader.Open(path, declared, undeclaredAsKeyword, only);
        var rows = new List<IReadOnlyDictionary<string, FieldValue>>();
        while (reader.Next() is { } row) rows.Add(row);
        return new FieldTable(reader.Fields, rows.ToArray());
    }

    /// <summary>
    /// One value as a cell that <see cref="Parse"/> reads back to an equal value; <see cref="InvalidArgumentException"/>
    /// for a string the format cannot carry (a tab or line break anywhere, a comma in a tag, a keyword or tag with
    /// surrounding spaces in a tags cell).
    /// </summary>
    public static string Format(FieldValue value)
    {
        switch (value.Type)
        {
            case FieldType.Keyword:
                return CheckCell(value.AsKeyword(), "keyword");
            case FieldType.Tags:
                foreach (var t in value.AsTags())
                    if (t.Contains(',') || t.Length == 0 || t.Trim().Length != t.Length)
                        throw new InvalidArgumentException($"tag '{t}' has a comma, surrounding spaces or is empty: a tags cell cannot carry it");
                return CheckCell(string.Join(',', value.AsTags()), "tags");
            case FieldType.Int:
                return value.AsInt().ToString(CultureInfo.InvariantCulture);
            case FieldType.Double:
                return value.AsDouble().ToString("R", CultureInfo.InvariantCulture);
            case FieldType.Bool:
                return value.AsBool() ? "true" : "false";
            case FieldType.Timestamp:
                return FieldValue.FormatTimestamp(value.AsTimestampMicros());
            default:
                throw new InvalidArgumentException($"unknown field type {(int)value.Type}");
        }
    }

    private static string CheckCell(string s, string what) =>
        s.AsSpan().IndexOfAny('\t', '\n', '\r') < 0 ? s : throw new InvalidArgumentException($"a {what} value holds a tab or line break: a tab-separated cell cannot carry it");

    internal static string[] Cells(string line) => line.TrimEnd('\r').Split('\t');

    /// <summary>One cell as a value of <paramref name="type"/>; <see cref="InvalidArgumentException"/> when it is not one.</summary>
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
}
