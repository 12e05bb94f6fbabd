using System.Diagnostics;
using VectorStore.Collections;
using VectorStore.Distance;
using VectorStore.Quantization;

namespace VectorStore.Evaluation;

/// <summary>Settings shared by every variant of a report, with their defaults. Immutable, so thread-safe.</summary>
public sealed record ReportOptions
{
    /// <summary>Metric of every collection. Default cosine.</summary>
    public Metric Metric { get; init; } = Metric.Cosine;

    /// <summary>Index spec every variant runs on. Default <c>flat</c>.</summary>
    public string Index { get; init; } = "flat";

    /// <summary>k of the timed search. Default 10.</summary>
    public int K { get; init; } = 10;

    /// <summary>Re-rank depth for every variant (0 = none). Default 0.</summary>
    public int Rerank { get; init; }

    /// <summary>HNSW beam width (0 = index default).</summary>
    public int Ef { get; init; }

    /// <summary>IVF lists probed (0 = index default).</summary>
    public int NProbe { get; init; }

    /// <summary>Threads of the all-threads pass and of building (0 = all cores).</summary>
    public int Threads { get; init; }

    /// <summary>Seed of every training step. Default 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Minimum wall time of each throughput pass, seconds. Default 1.</summary>
    public double MinSeconds { get; init; } = 1.0;
}
