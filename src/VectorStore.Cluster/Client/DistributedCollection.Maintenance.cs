using VectorStore.Cluster.Layout;
using VectorStore.Collections;
using VectorStore.Filtering;

namespace VectorStore.Cluster;

/// <summary>Listing, statistics and compaction: each a fan-out over the shards.</summary>
public sealed partial class DistributedCollection
{
    /// <summary>
    /// Live ids greater than <paramref name="after"/> (null: from the smallest) whose field values
    /// a filter admits (every live id without one), ascending, at most <paramref name="limit"/>, and
    /// whether more follow: each shard sends its next limit + 1 (evaluating the filter on its own field indexes) and
    /// the coordinator merges, so a page costs one call per shard.
    /// </summary>
    public Task<IdPage> ListIdsAsync(ulong? after, int limit) => ListIdsAsync(after, limit, null);

    /// <inheritdoc cref="ListIdsAsync(ulong?, int)"/>
    /// <param name="after">Exclusive lower bound, or null to start at the smallest id.</param>
    /// <param name="limit">Most ids to return.</param>
    /// <param name="where">Field filter the ids must satisfy, or null for every live id.</param>
    public async Task<IdPage> ListIdsAsync(ulong? after, int limit, FilterExpression? where)
    {
        if (limit <= 0) throw new InvalidArgumentException($"limit must be positive, got {limit}");
        ThrowIfReplaced();
        // Checked here (declared fields, value types) so a bad filter is one clear error, not one per shard.
        if (where is not null) FilterValidation.Validate(where, Options.Fields ?? []);
        var layout = await GetLayoutAsync(refresh: false);
        int ask = limit == int.MaxValue ? limit : limit + 1;
        string? text = where?.ToString();
        var parts = await Task.WhenAll(layout.Shards.Select(p => ReadShardAsync(layout, p.Shard, c => c.IdsAfterAsync(after, ask, text), primaryFirst: true)));
        var merged = parts.SelectMany(x => x).ToArray();
        Array.Sort(merged);
        int n = Math.Min(limit, merged.Length);
        return new IdPage(merged[..n], merged.Length > n);
    }

    /// <summary>
    /// The collection's options and statistics: counts and index sizes summed over one in-sync copy of each shard
    /// (the data once), <see cref="CollectionStats.Trained"/> only when every shard is, and bytes on disk summed over
    /// every in-sync copy that answers (what the replication factor costs; a copy on a silo that just died counts 0).
    /// </summary>
    public async Task<CollectionInfo> GetInfoAsync()
    {
        var layout = await GetLayoutAsync();
        var perShard = await Task.WhenAll(layout.Shards.Select(p => ReadShardAsync(layout, p.Shard, c => c.StatsAsync(), primaryFirst: true)));
        var allCopies = await Task.WhenAll(layout.Shards.SelectMany(p => p.InSync().Select(silo => DiskBytesOfAsync(layout, p.Shard, silo))));
        var stats = new CollectionStats
        {
            Count = perShard.Sum(s => s.Count),
            Dimension = Options.Dimension,
            Trained = perShard.All(s => s.Trained),
            CodeSize = perShard.Max(s => s.CodeSize),
            IndexBytes = perShard.Sum(s => s.IndexBytes),
            RerankBytes = perShard.Sum(s => s.RerankBytes),
            ResidentBytes = perShard.Sum(s => s.ResidentBytes),
            DiskBytes = perShard.Sum(s => s.DiskBytes),
            RawVectors = (RawVectorResidency)perShard[0].RawVectors,
            Compression = perShard[0].Compression,
            Index = perShard[0].Index,
            // The layout's live generation: the shards' stats do not carry it, and 1 was reported after every promotion.
            Generation = layout.LiveGeneration,
        };
        // As the engine reports it: the residency the shards resolved when none was asked for.
        return new CollectionInfo(Options with { RawVectors = Options.RawVectors ?? stats.RawVectors }, stats, allCopies.Sum());
    }

    /// <summary>
    /// Compacts every in-sync copy of every shard (the engine's snapshot and log truncation; writes and searches
    /// continue); <see cref="ClusterUnavailableException"/> naming the copies that failed.
    /// </summary>
    public async Task CompactAsync()
    {
        var layout = await GetLayoutAsync();
        var calls = layout.Shards.SelectMany(p => p.InSync().Select(silo => (p.Shard, Silo: silo, Task: Copy(layout, p.Shard, silo).CompactAsync()))).ToArray();
        try
        {
            await Task.WhenAll(calls.Select(c => c.Task));
        }
        catch (Exception)
        {
            var failed = calls.Where(c => !c.Task.IsCompletedSuccessfully).Select(c => $"shard {c.Shard} on {c.Silo}: {c.Task.Exception?.GetBaseException().Message}");
            throw new ClusterUnavailableException($"compaction of '{Name}' failed on {string.Join("; ", failed)}");
        }
    }

    /// <inheritdoc cref="CompactAsync"/>
    public void Compact() => CompactAsync().GetAwaiter().GetResult();

    /// <summary>A copy's bytes on disk; 0 when it does not answer in time (a silo that just died still listed).</summary>
    private async Task<long> DiskBytesOfAsync(ClusterLayout layout, int shard, string silo)
    {
        var call = Copy(layout, shard, silo).StatsAsync();
        if (await call.CompletesWithin(_options.ShardTimeout) && call.IsCompletedSuccessfully) return call.Result.DiskBytes;
        call.ObserveFaults();
        return 0;
    }
}
