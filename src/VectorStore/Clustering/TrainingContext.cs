using System.Reflection;
using VectorStore.Threading;

namespace VectorStore.Clustering;

/// <summary>Seed, threads and progress reporting shared by every training step.</summary>
public sealed class TrainingContext
{
    /// <summary>Seed of every random choice; the same seed and data give the same codec. Default 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Worker threads; 0 = all cores. Default 0. A collection sets it from its database's <c>DatabaseOptions.Threads</c>.</summary>
    public int Threads { get; init; }

    /// <summary>Receives (stage, fraction done) while training; may be null.</summary>
    public IProgress<(string Stage, double Fraction)>? Progress { get; init; }

    /// <summary>Receives warnings such as "too few training points per centroid"; may be null.</summary>
    public Action<string>? Warn { get; init; }

    /// <summary>Parallel options honouring <see cref="Threads"/>.</summary>
    public ParallelOptions ParallelOptions => EngineParallel.Options(Threads);

    /// <summary>Defaults.</summary>
    public static TrainingContext Default { get; } = new();
}
