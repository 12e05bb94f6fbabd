namespace VectorStore.Cluster.Shards;

/// <summary>
/// One write to one shard: upserts (row-major vectors, already normalized for cosine) and deletes. The primary
/// applies it as one durable engine batch and forwards the same object to its followers.
/// </summary>
[GenerateSerializer, Immutable]
internal sealed class ShardBatch
{
    [Id(0)] public ulong[] Ids { get; init; } = [];
    [Id(1)] public float[] Vectors { get; init; } = [];
    [Id(2)] public byte[]?[]? Payloads { get; init; }
    [Id(3)] public ulong[] Deletes { get; init; } = [];

    /// <summary>Each upsert's field values in the engine's stored form (<see cref="FieldSets"/>), or null for none.</summary>
    [Id(4)] public byte[]?[]? Fields { get; init; }

    /// <summary>The incarnation of the collection the writer routed with (<see cref="Layout.ClusterLayout.Incarnation"/>).</summary>
    [Id(5)] public long Incarnation { get; init; }
}
