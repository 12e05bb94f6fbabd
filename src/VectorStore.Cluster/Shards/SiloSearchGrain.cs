using VectorStore.Cluster.Hosting;

namespace VectorStore.Cluster.Shards;

/// <summary>
/// Searches the shard copies of its own silo for the coordinator (<see cref="ISiloSearchGrain"/>): copies already
/// active here are called in process through <see cref="LocalShards"/>, others through Orleans (which activates them).
/// </summary>
/// <remarks>
/// Thread-safety: stateless; every call interleaves, and each copy's search runs on the thread pool as its own grain
/// call would.
/// </remarks>
[PinnedPlacement]
internal sealed class SiloSearchGrain(LocalShards local) : Grain, ISiloSearchGrain
{
    public async Task<ShardHits?[]> SearchAsync(string[] shardKeys, ShardQuery query, ulong[]?[]? filterIds, TimeSpan budget)
    {
        var calls = new Task<ShardHits>[shardKeys.Length];
        for (int i = 0; i < calls.Length; i++)
        {
            var q = filterIds is null ? query : query with { FilterIds = filterIds[i] };
            calls[i] = Search(shardKeys[i], q);
        }
        await Task.WhenAll(calls).CompletesWithin(budget);
        var hits = new ShardHits?[calls.Length];
        for (int i = 0; i < calls.Length; i++)
        {
            if (calls[i].IsCompletedSuccessfully) hits[i] = calls[i].Result;
            else calls[i].ObserveFaults();
        }
        return hits;
    }

    /// <summary>
    /// In process when the copy is active here; through Orleans otherwise, and also when the in-process call fails (a
    /// copy deactivated since it was listed answers its grain call from a new activation).
    /// </summary>
    private async Task<ShardHits> Search(string key, ShardQuery query)
    {
        if (local.TryGet(key, out var copy))
        {
            try
            {
                return await copy.SearchAsync(query);
            }
            catch (Exception)
            {
                // Asked again below: the grain call reports why this copy cannot answer, if it still cannot.
            }
        }
        return await GrainFactory.GetGrain<IShardReplicaGrain>(key).SearchAsync(query);
    }
}
