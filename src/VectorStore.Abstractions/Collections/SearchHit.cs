
namespace VectorStore.Collections;

/// <summary>One search result.</summary>
/// <param name="Id">The vector's id.</param>
/// <param name="Score">Squared L2 distance (lower is better) or inner-product / cosine similarity (higher is better).</param>
public readonly record struct SearchHit(ulong Id, float Score);
