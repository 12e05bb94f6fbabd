namespace VectorStore.Cluster.Shards;

/// <summary>A shard's best k′ per query, best first, as the engine ranked them.</summary>
[GenerateSerializer, Immutable]
internal sealed class ShardHits
{
    [Id(0)] public ulong[][] Ids { get; init; } = [];
    [Id(1)] public float[][] Scores { get; init; } = [];

    /// <summary>Per query, the generation that answered it (0 when no hit; absent from older silos).</summary>
    [Id(2)] public int[] Generations { get; init; } = [];
}
