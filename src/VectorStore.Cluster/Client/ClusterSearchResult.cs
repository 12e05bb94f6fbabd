using VectorStore.Collections;

namespace VectorStore.Cluster;

/// <summary>
/// A merged search result. <see cref="IsPartial"/> is true when some shards did not answer in time: then
/// <see cref="Hits"/> is the best of what the other shards hold, possibly fewer than k, and
/// <see cref="MissingShards"/> says which parts of the collection were not searched.
/// </summary>
/// <param name="Hits">Best first, as an embedded collection orders them (score, then id).</param>
/// <param name="MissingShards">Shards left out, ascending; empty when complete.</param>
public sealed record ClusterSearchResult(SearchHit[] Hits, int[] MissingShards)
{
    /// <summary>Whether any shard is missing.</summary>
    public bool IsPartial => MissingShards.Length > 0;
}
