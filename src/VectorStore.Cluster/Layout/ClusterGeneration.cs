using VectorStore.Lifecycle;

namespace VectorStore.Cluster.Layout;

/// <summary>
/// One compression generation of a distributed collection, as the layout records it: its number (the same engine
/// generation number on every copy of every shard), its specs, and its cluster-wide state. The layout is the truth for
/// which generation is live; copies report readiness, sizes, canary figures and drift.
/// </summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
[GenerateSerializer, Immutable]
public sealed record ClusterGeneration
{
    /// <summary>The generation's number (1 is the one the collection was trained with).</summary>
    [Id(0)] public int Number { get; init; }

    /// <summary>Compression spec.</summary>
    [Id(1)] public string Compression { get; init; } = "";

    /// <summary>Index spec.</summary>
    [Id(2)] public string Index { get; init; } = "";

    /// <summary>Live, candidate or retired (as <see cref="GenerationState"/>).</summary>
    [Id(3)] public int State { get; init; }

    /// <summary>Order of retirement: a rollback returns to the highest.</summary>
    [Id(4)] public long RetiredOrder { get; init; }

    /// <summary>The state as the engine's enum.</summary>
    public GenerationState Kind => (GenerationState)State;
}
