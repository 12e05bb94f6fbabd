using System.Text;
using VectorStore.Filtering;

namespace VectorStore.Cli.Commands;

/// <summary>
/// Field values as the CLI shows and sends them: JSON for hits, and the wire size of the largest record so
/// <c>load</c> can size batches (files are read by <see cref="Evaluation.FieldTableReader"/>).
/// </summary>
public static class FieldJson
{
    /// <summary>
    /// One record's field values on the wire (data-format.md §5.7: count, then per value its name, type byte and form),
    /// so <c>load</c> can size batches for a server's frame limit by its largest record. Capped at int.MaxValue / 2.
    /// </summary>
    public static int WireBytes(IReadOnlyDictionary<string, FieldValue> row)
    {
        long size = 2;
        foreach (var (name, value) in row)
            size += 2 + name.Length + 1 + value.Type switch
            {
                FieldType.Keyword => 2 + Encoding.UTF8.GetByteCount(value.AsKeyword()),
                FieldType.Tags => 2 + value.AsTags().Sum(t => 2 + Encoding.UTF8.GetByteCount(t)),
                _ => 8,
            };
        return (int)Math.Min(size, int.MaxValue / 2);
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
