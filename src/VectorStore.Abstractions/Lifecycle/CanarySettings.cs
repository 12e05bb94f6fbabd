namespace VectorStore.Lifecycle;

/// <summary>
/// The shadow canary of a collection: which live queries are also answered, off the request path, by a candidate
/// generation and by exact search. Defaults are documented per property; <see cref="Validate"/> checks them.
/// </summary>
public sealed record CanarySettings
{
    /// <summary>The candidate generation to compare with the live one.</summary>
    public required int Generation { get; init; }

    /// <summary>Fraction of live queries shadowed by the candidate. Default 0.01 (1 %).</summary>
    public double SampleRate { get; init; } = 0.01;

    /// <summary>
    /// Fraction of the shadowed queries also answered by exact search (the recall figures rest on these). Default 1;
    /// <see cref="CpuBudget"/> bounds what they cost.
    /// </summary>
    public double ExactFraction { get; init; } = 1;

    /// <summary>
    /// Share of one core the canary's background work may use on average (an exact answer is a full scan, a hundred
    /// times an indexed search): past it, sampled queries are skipped until the average is back under it, so the
    /// canary never costs the served queries more than this. Default 0.03. The recall figures then accumulate
    /// more slowly on a busy collection; they stay unbiased because skipping does not depend on the query.
    /// </summary>
    public double CpuBudget { get; init; } = 0.03;

    /// <summary>
    /// A keyword or tags field whose values group the true neighbours into item segments (recall per value), or null.
    /// Queries tagged with <c>SearchOptions.Segment</c> are grouped by that tag as well. Default null.
    /// </summary>
    public string? SegmentField { get; init; }

    /// <summary>Shadow queries waiting for the background worker beyond which new ones are dropped (never blocking a search). Default 256.</summary>
    public int QueueCapacity { get; init; } = 256;

    /// <summary>Random seed of the sampling. Default 1.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Throws <see cref="InvalidArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (Generation <= 0) throw new InvalidArgumentException($"canary generation must be positive, got {Generation}");
        if (!(SampleRate is > 0 and <= 1)) throw new InvalidArgumentException($"canary sample rate must be in (0, 1], got {SampleRate}");
        if (!(ExactFraction is >= 0 and <= 1)) throw new InvalidArgumentException($"canary exact fraction must be in [0, 1], got {ExactFraction}");
        if (!(CpuBudget is > 0 and <= 64)) throw new InvalidArgumentException($"canary CPU budget must be in (0, 64] cores, got {CpuBudget}");
        if (QueueCapacity is < 1 or > 1_000_000) throw new InvalidArgumentException($"canary queue capacity must be in 1..1000000, got {QueueCapacity}");
    }
}
