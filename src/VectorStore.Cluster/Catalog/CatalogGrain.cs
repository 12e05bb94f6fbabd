using VectorStore.Cluster.Hosting;
using VectorStore.Cluster.Layout;

namespace VectorStore.Cluster.Catalog;

/// <summary>
/// Records collection names; the layouts themselves live in one layout grain per collection.
/// </summary>
/// <remarks>Thread-safety: not reentrant, so Orleans runs one call at a time.</remarks>
internal sealed class CatalogGrain([PersistentState("catalog", ClusterStorage.Name)] IPersistentState<CatalogState> state) : Grain, ICatalogGrain
{
    public async Task<ClusterLayout> CreateAsync(string database, string collection, CollectionSpec spec, int shards, int replication)
    {
        string key = $"{database}/{collection}";
        if (state.State.Collections.Contains(key)) throw new InvalidArgumentException($"collection '{collection}' already exists");
        // Recorded before the layout exists, so a crash in between leaves a name the watcher reconciles (a no-op
        // for a missing layout) rather than shards no catalog entry points to.
        state.State.Collections.Add(key);
        await state.WriteStateAsync();
        try
        {
            return await GrainFactory.GetGrain<ILayoutGrain>(key).CreateAsync(spec, shards, replication);
        }
        catch
        {
            state.State.Collections.Remove(key);
            await state.WriteStateAsync();
            throw;
        }
    }

    public Task<string[]> ListAsync(string? database) => Task.FromResult(database is null
        ? state.State.Collections.Order(StringComparer.Ordinal).ToArray()
        : state.State.Collections.Where(k => k.StartsWith(database + "/", StringComparison.Ordinal))
            .Select(k => k[(database.Length + 1)..]).Order(StringComparer.Ordinal).ToArray());

    public async Task<bool> DropAsync(string database, string collection)
    {
        string key = $"{database}/{collection}";
        if (!state.State.Collections.Contains(key)) return false;
        await GrainFactory.GetGrain<ILayoutGrain>(key).DropAsync();
        state.State.Collections.Remove(key);
        await state.WriteStateAsync();
        return true;
    }
}
