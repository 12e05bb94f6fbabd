using VectorStore.Filtering;

namespace VectorStore.Cluster.Shards;

/// <summary>
/// A record's field values between silos: the engine's stored form (<see cref="FieldSetCodec"/>, data-format.md
/// §4.9), so the coordinator checks them against the declared fields once, before anything is sent, and every copy
/// stores the same values. Stateless.
/// </summary>
internal static class FieldSets
{
    /// <summary>One encoded set per record (null: no values), or null when no record has values.</summary>
    public static byte[]?[]? Encode(IReadOnlyList<FieldDefinition> fields, IReadOnlyList<ulong> ids,
        IReadOnlyList<IReadOnlyDictionary<string, FieldValue>?>? values)
    {
        if (values is null) return null;
        if (values.Count != ids.Count) throw new InvalidArgumentException($"{values.Count} field sets for {ids.Count} ids");
        if (fields.Count == 0 && values.Any(v => v is { Count: > 0 }))
            throw new InvalidArgumentException("the collection declares no fields, so its records cannot carry field values");
        var encoded = new byte[]?[ids.Count];
        bool any = false;
        for (int i = 0; i < encoded.Length; i++) any |= (encoded[i] = FieldSetCodec.Encode(fields, values[i], ids[i])) is not null;
        return any ? encoded : null;
    }

    /// <summary>The encoded set of a stored record's values (null: none).</summary>
    public static byte[]? Encode(IReadOnlyList<FieldDefinition> fields, IReadOnlyDictionary<string, FieldValue> values, ulong id) =>
        FieldSetCodec.Encode(fields, values, id);

    /// <summary>The values of <paramref name="encoded"/> (empty for null).</summary>
    public static IReadOnlyDictionary<string, FieldValue> Decode(IReadOnlyList<FieldDefinition> fields, byte[]? encoded)
    {
        return encoded is null ? VectorStore.Collections.VectorRecord.EmptyFields : FieldSetCodec.Decode(fields, encoded, "a field set from another silo");
    }

    /// <summary>Decoded sets for an engine batch, or null when <paramref name="encoded"/> is.</summary>
    public static IReadOnlyDictionary<string, FieldValue>?[]? DecodeAll(IReadOnlyList<FieldDefinition> fields, byte[]?[]? encoded) =>
        encoded is null ? null : Array.ConvertAll(encoded, e => e is null ? null : Decode(fields, e));
}
