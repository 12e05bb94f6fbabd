
namespace VectorStore.Collections;

/// <summary>A stored vector with its payload.</summary>
/// <param name="Id">The id.</param>
/// <param name="Vector">The full-precision vector as stored (unit length for cosine collections).</param>
/// <param name="Payload">The payload (empty when none was given).</param>
public sealed record VectorRecord(ulong Id, float[] Vector, byte[] Payload);
