
namespace VectorStore.Collections;

/// <summary>Options of one search. Defaults are documented per property.</summary>
public sealed record SearchOptions
{
    /// <summary>How many results. Default 10; must be in 1..<see cref="MaxK"/>.</summary>
    public int K { get; init; } = 10;

    /// <summary>
    /// Re-score this many best candidates with the full-precision vectors (0 = return the codec's estimates).
    /// Default 0.
    /// </summary>
    public int Rerank { get; init; }

    /// <summary>
    /// Automatic settings: when &gt; 0 and <see cref="Rerank"/> is 0, the re-rank depth, and <see cref="NProbe"/>
    /// when left at 0, are chosen as the fastest settings reaching this recall@k on a held-out
    /// sample of the collection's own data (<c>Collection.TuneSearch</c>, measured once per target, k and fixed knob;
    /// the first search of each pays for it). After <c>Collection.TuneSearchOnQueries</c> the sample is the caller's
    /// queries and <see cref="Ef"/>, when left at 0, is chosen too. When the live index changes (retraining,
    /// rebalance, promotion, rollback) the targets already asked are tuned again in the background. Default 0 (off).
    /// </summary>
    public double TargetRecall { get; init; }

    /// <summary>HNSW beam width; 0 = index default (or tuned, with <see cref="TargetRecall"/> after <c>Collection.TuneSearchOnQueries</c>).</summary>
    public int Ef { get; init; }

    /// <summary>IVF lists to probe; 0 = index default (or tuned, with <see cref="TargetRecall"/>).</summary>
    public int NProbe { get; init; }

    /// <summary>Restricts results; null = no filter.</summary>
    public SearchFilter? Filter { get; init; }

    /// <summary>Return each hit's field values (<see cref="SearchHit.Fields"/>). Default false.</summary>
    public bool IncludeFields { get; init; }

    /// <summary>Return each hit's payload (<see cref="SearchHit.Payload"/>). Default false.</summary>
    public bool IncludePayload { get; init; }

    /// <summary>Return each hit's stored vector (<see cref="SearchHit.Vector"/>; a disk read per hit out of core). Default false.</summary>
    public bool IncludeVector { get; init; }

    /// <summary>
    /// The caller's stable key for A/B exposure (a user or session id): while a candidate generation is exposed to a
    /// percentage of traffic, a stable hash of this key decides which generation serves the search
    /// (<see cref="SearchHit.Generation"/> says which did). Null (default) = always the live generation.
    /// </summary>
    public string? ExposureKey { get; init; }

    /// <summary>
    /// The query's segment tag for the shadow canary's per-segment recall (a tenant, a product line); null (default)
    /// = no query segment.
    /// </summary>
    public string? Segment { get; init; }

    /// <summary>Largest k (and rerank depth) accepted: protects the process from a request for 10⁹ results.</summary>
    public const int MaxK = 100_000;
}
