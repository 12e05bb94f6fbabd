using System.Diagnostics;
using VectorStore.Collections;

namespace VectorStore.Evaluation;

/// <summary>What to build and how to search it, for one evaluation run.</summary>
public sealed record EvalSettings
{
    /// <summary>Metric. Default L2.</summary>
    public Metric Metric { get; init; } = Metric.L2;

    /// <summary>Compression spec. Default <c>none</c>.</summary>
    public string Compression { get; init; } = "none";

    /// <summary>Index spec. Default <c>flat</c>.</summary>
    public string Index { get; init; } = "flat";

    /// <summary>Results per query. Default 10.</summary>
    public int K { get; init; } = 10;

    /// <summary>Re-rank depth. Default 0.</summary>
    public int Rerank { get; init; }

    /// <summary>
    /// Automatic re-ranking when <see cref="Rerank"/> is 0: the depth reaching this recall@k on a held-out sample of
    /// the base vectors (<see cref="Collection.TuneRerank"/>). Default 0 (off).
    /// </summary>
    public double TargetRecall { get; init; }

    /// <summary>Search threads. Default 1.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Minimum wall time of the throughput phase, in seconds. Default 1.</summary>
    public double MinSeconds { get; init; } = 1.0;

    /// <summary>Training/construction seed. Default 42.</summary>
    public int Seed { get; init; } = 42;
}
