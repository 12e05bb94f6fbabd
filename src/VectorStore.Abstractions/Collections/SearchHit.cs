using VectorStore.Filtering;

namespace VectorStore.Collections;

/// <summary>One search result.</summary>
/// <param name="Id">The vector's id.</param>
/// <param name="Score">Squared L2 distance (lower is better) or inner-product / cosine similarity (higher is better).</param>
/// <remarks>
/// <see cref="Fields"/>, <see cref="Payload"/> and <see cref="Vector"/> are filled only when the search asked for them
/// (<see cref="SearchOptions.IncludeFields"/>, <see cref="SearchOptions.IncludePayload"/>,
/// <see cref="SearchOptions.IncludeVector"/>); otherwise null, and a hit costs no allocation beyond itself.
/// </remarks>
public readonly record struct SearchHit(ulong Id, float Score)
{
    /// <summary>The hit's field values, when requested.</summary>
    public IReadOnlyDictionary<string, FieldValue>? Fields { get; init; }

    /// <summary>The hit's payload, when requested (empty when it has none).</summary>
    public byte[]? Payload { get; init; }

    /// <summary>The hit's stored full-precision vector, when requested.</summary>
    public float[]? Vector { get; init; }

    /// <summary>
    /// The compression generation that served the search (every hit of one search carries the same; generations are
    /// numbered from 1, the one a collection is created with), also when it answered exactly (no index yet, or a
    /// filter selective enough for an exact scan); 0 when the answer came from a server that does not report it
    /// (before protocol 5; earlier releases also sent 0 for an exact answer) or was merged from a cluster's shards
    /// (each shard keeps its own generations).
    /// </summary>
    public int Generation { get; init; }
}
