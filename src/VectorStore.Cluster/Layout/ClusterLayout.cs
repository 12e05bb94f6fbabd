using System.Text.Json;
using VectorStore.Cluster.Shards;
using VectorStore.Collections;
using VectorStore.Lifecycle;

namespace VectorStore.Cluster.Layout;

/// <summary>
/// One version of a distributed collection's layout: id → slot (<see cref="SlotHash"/>) → shard → silos. The layout
/// grain is its only writer and persists every version before anyone acts on it; everyone else reads a copy.
/// </summary>
/// <remarks>Immutable; safe to share between threads.</remarks>
[GenerateSerializer, Immutable]
public sealed class ClusterLayout
{
    /// <summary>The distributed database's name.</summary>
    [Id(0)] public string Database { get; init; } = "";

    /// <summary>The collection's name.</summary>
    [Id(1)] public string Collection { get; init; } = "";

    /// <summary>Increases by one with every change; a reader holding an older version re-reads.</summary>
    [Id(2)] public long Version { get; init; }

    /// <summary>Fixed number of virtual slots.</summary>
    [Id(3)] public int SlotCount { get; init; }

    /// <summary>Shard of each slot.</summary>
    [Id(4)] public int[] SlotToShard { get; init; } = [];

    /// <summary>Placement of each shard, indexed by shard number.</summary>
    [Id(5)] public ShardPlacement[] Shards { get; init; } = [];

    /// <summary>R: durable copies a write needs before it is acknowledged.</summary>
    [Id(6)] public int ReplicationFactor { get; init; }

    /// <summary>0 while untrained (exact scans); each cluster-wide training increments it.</summary>
    [Id(7)] public int TrainingGeneration { get; init; }

    /// <summary>The collection's settings.</summary>
    [Id(8)] public CollectionSpec Spec { get; init; } = new();

    /// <summary>
    /// The compression generations (empty until the first is declared: generation 1, the one the collection trained
    /// with, is then live). Absent in older layout files.
    /// </summary>
    [Id(9)] public ClusterGeneration[] Generations { get; init; } = [];

    /// <summary>The highest generation number ever assigned (numbers are never reused); 0 before any.</summary>
    [Id(10)] public int LastGeneration { get; init; }

    /// <summary>The collection's lifecycle policy as JSON (<c>LifecyclePolicy</c>), or null for the defaults.</summary>
    [Id(11)] public string? Policy { get; init; }

    /// <summary><see cref="Policy"/> read: the defaults when none was set.</summary>
    internal LifecyclePolicy ReadPolicy() =>
        Policy is null ? new LifecyclePolicy() : JsonSerializer.Deserialize<LifecyclePolicy>(Policy, ShardReplicaGrain.LifecycleJson)!;

    /// <summary>
    /// Which incarnation of the name this is: the version of its first layout. A collection dropped and created again
    /// under the same name has another, so a handle or a batch of the old one is refused instead of landing in the new
    /// one. 0 in layout files written before it.
    /// </summary>
    [Id(12)] public long Incarnation { get; init; }

    /// <summary>
    /// Whether incarnations <paramref name="a"/> and <paramref name="b"/> may be the same collection: equal, or either
    /// not known (0: a layout, or a coordinator, from before incarnations, as during an upgrade).
    /// </summary>
    internal static bool SameIncarnation(long a, long b) => a == b || a == 0 || b == 0;

    /// <summary>Every generation, generation 1 included (as the layout's spec when none was declared yet).</summary>
    public IReadOnlyList<ClusterGeneration> AllGenerations() => Generations.Length > 0
        ? Generations
        : [new ClusterGeneration { Number = 1, Compression = Spec.Compression, Index = Spec.Index, State = (int)Lifecycle.GenerationState.Live }];

    /// <summary>The live generation's number.</summary>
    public int LiveGeneration => Live().Number;

    /// <summary>The live generation's entry.</summary>
    internal ClusterGeneration Live() => AllGenerations().First(g => g.Kind == Lifecycle.GenerationState.Live);

    /// <summary>The collection's options as created.</summary>
    public CollectionOptions Options => Spec.ToOptions();

    /// <summary>The shard holding <paramref name="id"/>.</summary>
    public int ShardOf(ulong id) => SlotToShard[SlotHash.Slot(id, SlotCount)];
}
