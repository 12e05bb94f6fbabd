using System.Collections.Concurrent;

namespace VectorStore.Cluster.Shards;

/// <summary>
/// The shard copies activated on this silo, by key, so that <see cref="SiloSearchGrain"/> can search them in process:
/// a search reaches every copy on a silo in one message, not one message (and one scheduling hop) per copy.
/// </summary>
/// <remarks>Thread-safety: safe from any thread. One per silo (a singleton in the silo's services).</remarks>
internal sealed class LocalShards
{
    private readonly ConcurrentDictionary<string, ShardReplicaGrain> _copies = new(StringComparer.Ordinal);

    /// <summary>A copy activated (or re-activated: the newest activation wins).</summary>
    public void Add(string key, ShardReplicaGrain copy) => _copies[key] = copy;

    /// <summary>A copy deactivated; a newer activation of the same key stays.</summary>
    public void Remove(string key, ShardReplicaGrain copy) => _copies.TryRemove(new KeyValuePair<string, ShardReplicaGrain>(key, copy));

    /// <summary>The active copy of <paramref name="key"/> on this silo, if any.</summary>
    public bool TryGet(string key, out ShardReplicaGrain copy) => _copies.TryGetValue(key, out copy!);
}
