namespace VectorStore.Lifecycle;

/// <summary>
/// A canary's comparison of a candidate generation with the live one: recall of both against exact search, how much
/// their answers overlap, and their latencies. From live traffic (a sampled shadow canary) or from a query file
/// (<c>scheme canary</c>).
/// </summary>
public sealed record CanaryReport
{
    /// <summary>The generation compared with the live one.</summary>
    public int Generation { get; init; }

    /// <summary>The live generation at the time.</summary>
    public int LiveGeneration { get; init; }

    /// <summary>Queries the candidate answered.</summary>
    public int Queries { get; init; }

    /// <summary>Queries also answered exactly (the recall figures rest on these).</summary>
    public int ExactQueries { get; init; }

    /// <summary>k of the recall figures (the queries' own k).</summary>
    public int K { get; init; }

    /// <summary>Mean recall@k of the live generation's answers against exact search.</summary>
    public double RecallLive { get; init; }

    /// <summary>Mean recall@k of the candidate's answers against exact search.</summary>
    public double RecallCandidate { get; init; }

    /// <summary>Mean fraction of the live answer's ids the candidate's answer also holds.</summary>
    public double Overlap { get; init; }

    /// <summary>Latency percentiles of the live generation's searches, milliseconds.</summary>
    public double LiveP50Ms { get; init; }

    /// <inheritdoc cref="LiveP50Ms"/>
    public double LiveP99Ms { get; init; }

    /// <summary>Latency percentiles of the candidate's searches, milliseconds.</summary>
    public double CandidateP50Ms { get; init; }

    /// <inheritdoc cref="CandidateP50Ms"/>
    public double CandidateP99Ms { get; init; }

    /// <summary>Resident bytes of the candidate's codes and index.</summary>
    public long CandidateIndexBytes { get; init; }

    /// <summary>Resident bytes of the live generation's codes and index.</summary>
    public long LiveIndexBytes { get; init; }

    /// <summary>Recall by segment, worst candidate recall first; empty without segments.</summary>
    public IReadOnlyList<SegmentRecall> Segments { get; init; } = [];

    /// <summary>The segment where the candidate's recall is lowest, or null without segments.</summary>
    public SegmentRecall? WorstSegment => Segments.Count > 0 ? Segments[0] : null;
}
