namespace VectorStore.Cluster;

/// <summary>How a coordinator (any <see cref="DistributedDatabase"/>) routes and waits. Defaults per property.</summary>
public sealed record ClusterCoordinatorOptions
{
    /// <summary>
    /// How long a search waits for each shard (trying its other in-sync copies within the same budget). A shard
    /// that has not answered by then is left out and the result is marked partial, naming it. Default 5 s.
    /// </summary>
    public TimeSpan ShardTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Over-fetch: each shard returns k′ = ⌈k × OverFetch⌉ hits. With the same codec on every shard the merge of each
    /// shard's top k is already the top k of the union, so 1 is exact for exact search; larger values give
    /// approximate indexes (HNSW's beam is at least k′, re-ranking scores max(k′, rerank) candidates) more room.
    /// Default 1.
    /// </summary>
    public double OverFetch { get; init; } = 1.0;

    /// <summary>
    /// How long a write keeps retrying while the layout heals (a dead primary being replaced, a replica being
    /// re-created) before it fails with <see cref="ClusterUnavailableException"/>. Default 60 s.
    /// </summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Most rows per message to one shard; a larger batch is sent as several durable batches. Default 4,096.</summary>
    public int MaxRowsPerMessage { get; init; } = 4096;
}
