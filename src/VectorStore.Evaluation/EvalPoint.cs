using System.Diagnostics;
using VectorStore.Collections;

namespace VectorStore.Evaluation;

/// <summary>Measurements of one sweep point.</summary>
public sealed record EvalPoint
{
    /// <summary>Recall@k against the ground truth.</summary>
    public double Recall { get; init; }

    /// <summary>Queries per second over the throughput phase.</summary>
    public double Qps { get; init; }

    /// <summary>Median single-query latency, microseconds.</summary>
    public double P50Us { get; init; }

    /// <summary>99th-percentile single-query latency, microseconds.</summary>
    public double P99Us { get; init; }

    /// <summary>Result ids per query (the recall pass).</summary>
    public required long[][] Results { get; init; }

    /// <summary>Full-precision vectors read from segment files per query in the recall pass (0 when resident).</summary>
    public double DiskReadsPerQuery { get; init; }

    /// <summary>With a filter: how many queries each plan answered (<c>exact</c>, <c>index</c>, <c>postfilter</c>, <c>empty</c>).</summary>
    public IReadOnlyDictionary<string, int> FilterPlans { get; init; } = new Dictionary<string, int>();

    /// <summary>
    /// Full-precision vectors scored per query in the recall pass: the re-rank depth, or with a refine stage only the
    /// candidates its error bound could not decide (0 without re-ranking; exact scans are not counted).
    /// </summary>
    public double FullPrecisionReadsPerQuery { get; init; }

    /// <summary>With a filter: mean live records it matched per query.</summary>
    public double FilterMatches { get; init; }
}
