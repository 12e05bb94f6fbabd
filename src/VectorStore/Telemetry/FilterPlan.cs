namespace VectorStore.Telemetry;

/// <summary>How a filtered search was answered (chosen per query by the collection from the exact match count).</summary>
internal enum FilterPlan : byte
{
    /// <summary>No filter.</summary>
    None = 0,

    /// <summary>The matching set is small: each match scored exactly against its full-precision vector.</summary>
    Exact = 1,

    /// <summary>The index searched with the filter: HNSW scores the matches' codes or walks the graph keeping only matches in its beam, IVF skips non-matching codes.</summary>
    Index = 2,

    /// <summary>Most records match: an unfiltered search over-fetched by the inverse of the match fraction, non-matches dropped.</summary>
    PostFilter = 3,

    /// <summary>Nothing matched.</summary>
    Empty = 4,
}
