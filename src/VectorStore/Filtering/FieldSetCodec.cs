namespace VectorStore.Filtering;

/// <summary>
/// A record's field values in their stored form (data-format.md §4.9), for code that moves records between
/// processes (the cluster's silos) and must keep them exactly as the engine stores them. Thread-safety: stateless.
/// </summary>
public static class FieldSetCodec
{
    /// <summary>
    /// Checks <paramref name="values"/> against the declared <paramref name="fields"/> (known names, matching types)
    /// and encodes them; null for no values. <see cref="InvalidArgumentException"/> names the record and the field.
    /// </summary>
    public static byte[]? Encode(IReadOnlyList<FieldDefinition> fields, IReadOnlyDictionary<string, FieldValue>? values, ulong id)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return FieldRecordCodec.Encode(fields, values, id);
    }

    /// <summary>
    /// The values of an encoded set; <see cref="StoreCorruptedException"/> naming <paramref name="source"/> when the
    /// bytes are not a set of <paramref name="fields"/>.
    /// </summary>
    public static IReadOnlyDictionary<string, FieldValue> Decode(IReadOnlyList<FieldDefinition> fields, ReadOnlySpan<byte> encoded, string source)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var values = new Dictionary<string, FieldValue>(StringComparer.Ordinal);
        FieldRecordCodec.Decode(encoded, fields, source, (index, value) => values[fields[index].Name] = value);
        return values;
    }
}
