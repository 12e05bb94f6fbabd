using VectorStore.Filtering;

namespace VectorStore.Collections;

/// <summary>A stored vector with its payload and field values.</summary>
/// <param name="Id">The id.</param>
/// <param name="Vector">The full-precision vector as stored (unit length for cosine collections).</param>
/// <param name="Payload">The payload (empty when none was given).</param>
public sealed record VectorRecord(ulong Id, float[] Vector, byte[] Payload)
{
    /// <summary>The record's values of the collection's declared fields (empty when it has none).</summary>
    public IReadOnlyDictionary<string, FieldValue> Fields { get; init; } = EmptyFields;

    /// <summary>A shared empty field set.</summary>
    public static readonly IReadOnlyDictionary<string, FieldValue> EmptyFields = new Dictionary<string, FieldValue>();
}
