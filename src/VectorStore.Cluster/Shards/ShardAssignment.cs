using VectorStore.Cluster.Layout;

namespace VectorStore.Cluster.Shards;

/// <summary>What the layout grain tells one copy of a shard: its role and, for a primary, whom to forward to.</summary>
[GenerateSerializer, Immutable]
internal sealed class ShardAssignment
{
    [Id(0)] public long LayoutVersion { get; init; }
    [Id(1)] public long Epoch { get; init; }
    [Id(2)] public ShardRole Role { get; init; }
    [Id(3)] public string Primary { get; init; } = "";

    /// <summary>Replicas and learners the primary forwards every batch to.</summary>
    [Id(4)] public string[] Followers { get; init; } = [];

    /// <summary>How many of the primary and its followers must have a batch durably before it is acknowledged.</summary>
    [Id(5)] public int ReplicationFactor { get; init; }

    /// <summary>For a learner, its copy session: a new session starts from empty.</summary>
    [Id(6)] public long CopySession { get; init; }

    [Id(7)] public CollectionSpec Spec { get; init; } = new();

    /// <summary>Which of the followers are in-sync replicas (each must apply every batch); the rest are learners.</summary>
    [Id(8)] public string[] Replicas { get; init; } = [];

    /// <summary>The layout's training generation (a copy activated without reading the layout learns it here).</summary>
    [Id(9)] public int TrainingGeneration { get; init; }

    /// <summary>The layout's live compression generation (a copy that missed a switch catches up when told); 0 = not said.</summary>
    [Id(10)] public int LiveGeneration { get; init; }

    /// <summary>The generations the layout lists (a copy drops any other it holds); empty = none declared yet.</summary>
    [Id(11)] public int[] Generations { get; init; } = [];

    /// <summary>The collection's lifecycle policy as JSON, or null for the defaults (a new copy applies it).</summary>
    [Id(12)] public string? Policy { get; init; }

    /// <summary>The live generation's compression spec (a copy that lacks it builds it from its kept sample).</summary>
    [Id(13)] public string LiveCompression { get; init; } = "";

    /// <summary>The live generation's index spec.</summary>
    [Id(14)] public string LiveIndex { get; init; } = "";

    /// <summary>The highest generation number the layout had assigned (a generation above it is newer than this push).</summary>
    [Id(15)] public int LastGeneration { get; init; }

    /// <summary>The layout's incarnation (<see cref="ClusterLayout.Incarnation"/>): a batch of another is refused.</summary>
    [Id(16)] public long Incarnation { get; init; }

    /// <summary>
    /// This push is the collection's creation: every copy starts empty. Any other push to a copy that finds no local
    /// data for an in-sync role means the data is lost (a wiped disk), and the copy waits to be replaced.
    /// </summary>
    [Id(17)] public bool Created { get; init; }

    /// <summary>
    /// The assignment of <paramref name="silo"/> for <paramref name="shard"/> in <paramref name="layout"/>;
    /// <paramref name="created"/> sets <see cref="Created"/>.
    /// </summary>
    public static ShardAssignment For(ClusterLayout layout, int shard, string silo, bool created = false)
    {
        var p = layout.Shards[shard];
        var live = layout.Live();
        var role = p.Primary == silo ? ShardRole.Primary
            : p.Replicas.Contains(silo) ? ShardRole.Replica
            : p.Learners.Contains(silo) ? ShardRole.Learner
            : ShardRole.None;
        return new ShardAssignment
        {
            LayoutVersion = layout.Version,
            Epoch = p.Epoch,
            Role = role,
            Primary = p.Primary,
            Followers = [.. p.Replicas, .. p.Learners],
            Replicas = p.Replicas,
            ReplicationFactor = layout.ReplicationFactor,
            CopySession = p.SessionOf(silo),
            Spec = layout.Spec,
            TrainingGeneration = layout.TrainingGeneration,
            LiveGeneration = live.Number,
            LiveCompression = live.Compression,
            LiveIndex = live.Index,
            Generations = layout.Generations.Select(g => g.Number).ToArray(),
            LastGeneration = layout.LastGeneration,
            Incarnation = layout.Incarnation,
            Created = created,
            Policy = layout.Policy,
        };
    }
}
