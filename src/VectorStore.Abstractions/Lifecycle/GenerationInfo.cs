namespace VectorStore.Lifecycle;

/// <summary>
/// One compression generation of a collection: a compression and index spec with the artifacts trained for it
/// (codebooks, ranges, centroids, graph), numbered from 1 (the generation the collection was created with).
/// </summary>
public sealed record GenerationInfo
{
    /// <summary>The generation's number; numbers are never reused within a collection.</summary>
    public int Generation { get; init; }

    /// <summary>Live, candidate or retired.</summary>
    public GenerationState State { get; init; }

    /// <summary>The compression spec (as <c>CollectionOptions.Compression</c>).</summary>
    public string Compression { get; init; } = "";

    /// <summary>The index spec (as <c>CollectionOptions.Index</c>).</summary>
    public string Index { get; init; } = "";

    /// <summary>Whether its codec is trained and its index holds every live vector (a candidate can then be promoted).</summary>
    public bool Ready { get; init; }

    /// <summary>Build progress in [0, 1]: vectors encoded over vectors to encode (1 once ready).</summary>
    public double Progress { get; init; }

    /// <summary>Why building it failed, or null.</summary>
    public string? Error { get; init; }

    /// <summary>Bytes per code.</summary>
    public int CodeSize { get; init; }

    /// <summary>Resident bytes of its codes and index structures (computed from its allocations).</summary>
    public long IndexBytes { get; init; }

    /// <summary>Percentage (0..100) of keyed queries this candidate serves (A/B exposure); 0 when not exposed.</summary>
    public double ExposurePercent { get; init; }

    /// <summary>What the live-traffic canary measured for this generation so far; null before any canary query.</summary>
    public CanaryReport? Canary { get; init; }
}
