using Orleans.Concurrency;

namespace VectorStore.Cluster.Shards;

/// <summary>
/// One per silo (key: <see cref="ShardKey.SearchKey"/>, placed on that silo only): searches several of the silo's
/// shard copies for one coordinator message. Messages were most of a distributed query's cost on small shards: with
/// one call per copy a query paid a round trip per shard, now one per silo.
/// </summary>
internal interface ISiloSearchGrain : IGrainWithStringKey
{
    /// <summary>
    /// Searches each copy in <paramref name="shardKeys"/> with <paramref name="query"/> (and that copy's entry of
    /// <paramref name="filterIds"/>, when given). An entry of the answer is null when that copy cannot answer here
    /// (no longer in sync, failed) or has not answered within <paramref name="budget"/>: the coordinator asks another
    /// copy of that shard with the time left, so one slow copy does not take its silo's other shards down with it.
    /// </summary>
    [AlwaysInterleave]
    Task<ShardHits?[]> SearchAsync(string[] shardKeys, ShardQuery query, ulong[]?[]? filterIds, TimeSpan budget);
}
