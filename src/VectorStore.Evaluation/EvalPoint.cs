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
}
