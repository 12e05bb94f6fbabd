using VectorStore.Cluster.Layout;
using VectorStore.Cluster.Shards;
using VectorStore.Collections;
using VectorStore.Distance;
using VectorStore.Filtering;

namespace VectorStore.Cluster;

/// <summary>Reads: point lookups at the shard's copies, scatter-gather search with a per-shard deadline.</summary>
public sealed partial class DistributedCollection
{
    /// <inheritdoc cref="GetAsync"/>
    public VectorRecord? Get(ulong id) => GetAsync(id).GetAwaiter().GetResult();

    /// <summary>The stored vector and payload of <paramref name="id"/>, or null. Read from the primary, else a replica.</summary>
    public async Task<VectorRecord?> GetAsync(ulong id) => (await GetBatchAsync([id]))[0];

    /// <summary>
    /// The stored vectors, payloads and field values of <paramref name="ids"/> (null where absent), one message per shard, each
    /// read from the shard's primary, else a replica; <see cref="ClusterUnavailableException"/> when a shard has no
    /// copy that answers within <see cref="ClusterCoordinatorOptions.ShardTimeout"/>.
    /// </summary>
    public async Task<VectorRecord?[]> GetBatchAsync(IReadOnlyList<ulong> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ThrowIfReplaced();
        var layout = Volatile.Read(ref _layout);
        int dim = Options.Dimension;
        var declared = Options.Fields ?? [];
        var found = new Dictionary<ulong, VectorRecord>();
        await Task.WhenAll(ids.Distinct().GroupBy(layout.ShardOf).Select(async g =>
        {
            var page = await ReadShardAsync(layout, g.Key, c => c.GetAsync(g.ToArray()), primaryFirst: true);
            if (page.Vectors.Length != page.Ids.Length * dim)
            {
                // Only a collection created again with another dimension answers so: the layout read says which.
                await GetLayoutAsync();
                throw new ClusterUnavailableException($"shard {g.Key} of '{Name}' answered vectors of another dimension");
            }
            lock (found)
                for (int i = 0; i < page.Count; i++)
                    found[page.Ids[i]] = new VectorRecord(page.Ids[i], page.Vectors.AsSpan(i * dim, dim).ToArray(), page.Payloads[i])
                    {
                        Fields = FieldSets.Decode(declared, page.Fields?[i]),
                    };
        }));
        return ids.Select(id => found.GetValueOrDefault(id)).ToArray();
    }

    /// <summary>
    /// Calls <paramref name="call"/> on the shard's in-sync copies in turn until one answers within
    /// <see cref="ClusterCoordinatorOptions.ShardTimeout"/> (a copy on a silo that just died must not hold the read for
    /// the whole response timeout); <see cref="ClusterUnavailableException"/> when none does.
    /// </summary>
    private async Task<T> ReadShardAsync<T>(ClusterLayout layout, int shard, Func<IShardReplicaGrain, Task<T>> call, bool primaryFirst)
    {
        Exception? last = null;
        foreach (var silo in ReadOrder(layout.Shards[shard], primaryFirst))
        {
            var task = call(Copy(layout, shard, silo));
            if (await task.CompletesWithin(_options.ShardTimeout) && task.IsCompletedSuccessfully) return task.Result;
            task.ObserveFaults();
            last = task.Exception?.GetBaseException();
        }
        await RefreshQuietlyAsync();
        ThrowIfReplaced();
        throw new ClusterUnavailableException($"no copy of shard {shard} of '{Name}' answered within {_options.ShardTimeout.TotalSeconds:0.#} s ({last?.Message ?? "timeout"})");
    }

    /// <summary>
    /// The best k entries, or <see cref="PartialResultException"/> (carrying the partial hits) when a shard did not
    /// answer within <see cref="ClusterCoordinatorOptions.ShardTimeout"/>: never silently short.
    /// </summary>
    public SearchHit[] Search(ReadOnlySpan<float> query, SearchOptions? options = null)
    {
        var r = SearchAsync(query.ToArray(), options).GetAwaiter().GetResult();
        return r.IsPartial ? throw new PartialResultException(r) : r.Hits;
    }

    /// <summary>Scatter-gather search; the result says whether (and which) shards are missing.</summary>
    public async Task<ClusterSearchResult> SearchAsync(ReadOnlyMemory<float> query, SearchOptions? options = null)
    {
        if (query.Length != Options.Dimension)
            throw new InvalidVectorException($"collection '{Name}' expects dimension {Options.Dimension}, got {query.Length}");
        var results = await SearchBatchAsync(new VectorMatrix(query.ToArray(), query.Length), options);
        return results[0];
    }

    /// <summary>
    /// Searches every row of <paramref name="queries"/>; one message per silo carries them all. Throws
    /// <see cref="PartialResultException"/> (for the first query) when a shard is missing. <paramref name="threads"/>
    /// is accepted for signature compatibility: each shard searches its part on its own silo.
    /// </summary>
    public SearchHit[][] SearchBatch(VectorMatrix queries, SearchOptions? options = null, int threads = 0)
    {
        var results = SearchBatchAsync(queries, options).GetAwaiter().GetResult();
        return results.Length > 0 && results[0].IsPartial ? throw new PartialResultException(results[0]) : results.Select(r => r.Hits).ToArray();
    }

    /// <summary>Searches every row of <paramref name="queries"/>; each result says which shards are missing.</summary>
    public async Task<ClusterSearchResult[]> SearchBatchAsync(VectorMatrix queries, SearchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(queries);
        options ??= new SearchOptions();
        ThrowIfReplaced();
        Validate(queries, options);
        var q = new VectorMatrix((float[])queries.Data.Clone(), queries.Dimension);
        if (Options.Metric == Metric.Cosine)
            for (int i = 0; i < q.Count; i++) Distances.Normalize(q[i]);
        var layout = Volatile.Read(ref _layout);
        var deadline = DateTime.UtcNow + _options.ShardTimeout;
        var filters = await ShardFiltersAsync(layout, options.Filter, deadline);
        string? where = options.Filter?.Where?.ToString();
        int kPrime = (int)Math.Min(SearchOptions.MaxK, Math.Ceiling(options.K * Math.Max(1.0, _options.OverFetch)));
        var query = new ShardQuery
        {
            Queries = q.Data,
            Dimension = q.Dimension,
            K = kPrime,
            Rerank = options.Rerank,
            TargetRecall = options.TargetRecall,
            Ef = options.Ef,
            NProbe = options.NProbe,
            Where = where,
            ExposureKey = options.ExposureKey,
            Incarnation = Incarnation,
        };
        var hits = await GatherAsync(layout, query, filters, deadline);
        // A shard holding none of the filter's ids has nothing to add (skipped); one whose payloads were unreadable
        // was not asked, and is missing.
        var answers = layout.Shards.Select(p => (p.Shard, Hits: hits[p.Shard], Skipped: filters is not null && filters[p.Shard] is { Length: 0 })).ToArray();
        var missing = answers.Where(a => a.Hits is null && !a.Skipped).Select(a => a.Shard).Order().ToArray();
        if (missing.Length > 0)
        {
            // A copy of a collection created again under this name refuses the query: say so, not "partial".
            await RefreshQuietlyAsync();
            ThrowIfReplaced();
        }
        var results = new ClusterSearchResult[q.Count];
        for (int i = 0; i < q.Count; i++)
        {
            var lists = answers.Where(a => a.Hits is not null).Select(a => (a.Hits!.Ids[i], a.Hits.Scores[i]));
            var merged = HitMerger.Merge(lists, options.K, Options.Metric);
            // Each hit says which generation answered it, as on one node: its shard's (one per shard and query).
            for (int h = 0; h < merged.Length; h++)
                if (hits[layout.ShardOf(merged[h].Id)] is { Generations: { Length: > 0 } g }) merged[h] = merged[h] with { Generation = g[i] };
            results[i] = new ClusterSearchResult(merged, missing);
        }
        if (options.IncludeFields || options.IncludePayload || options.IncludeVector) await AttachPartsAsync(results, options);
        return results;
    }

    /// <summary>
    /// Fills the parts a search asked for from one batched read of the merged hits (shards return ids and scores
    /// only, so a part crosses the network once per hit, not once per over-fetched candidate). A hit deleted since
    /// the search gets empty parts, as a single node's concurrent delete can leave a hit without its record.
    /// </summary>
    private async Task AttachPartsAsync(ClusterSearchResult[] results, SearchOptions options)
    {
        var ids = results.SelectMany(r => r.Hits).Select(h => h.Id).Distinct().ToArray();
        if (ids.Length == 0) return;
        var records = (await GetBatchAsync(ids)).Where(r => r is not null).ToDictionary(r => r!.Id, r => r!);
        foreach (var r in results)
            for (int i = 0; i < r.Hits.Length; i++)
            {
                records.TryGetValue(r.Hits[i].Id, out var rec);
                r.Hits[i] = r.Hits[i] with
                {
                    Fields = options.IncludeFields ? rec?.Fields ?? VectorRecord.EmptyFields : null,
                    Payload = options.IncludePayload ? rec?.Payload ?? [] : null,
                    Vector = options.IncludeVector ? rec?.Vector ?? [] : null,
                };
            }
    }

    private void Validate(VectorMatrix queries, SearchOptions options)
    {
        if (queries.Dimension != Options.Dimension)
            throw new InvalidVectorException($"collection '{Name}' expects dimension {Options.Dimension}, got {queries.Dimension}");
        if (options.K is <= 0 or > SearchOptions.MaxK) throw new InvalidArgumentException($"k must be in 1..{SearchOptions.MaxK}, got {options.K}");
        if (options.Rerank is < 0 or > SearchOptions.MaxK) throw new InvalidArgumentException($"rerank must be in 0..{SearchOptions.MaxK}, got {options.Rerank}");
        if (options.Ef < 0 || options.NProbe < 0) throw new InvalidArgumentException("ef and nprobe must not be negative");
        if (!(options.TargetRecall is >= 0 and <= 1)) throw new InvalidArgumentException($"target recall must be in [0, 1], got {options.TargetRecall}");
        if (options.Filter?.Where is { } where) FilterValidation.Validate(where, Options.Fields ?? []);
        for (int i = 0; i < queries.Count; i++) QueryValidation.Check(queries.Row(i), Options.Metric, queries.Count > 1 ? i : -1);
    }

    /// <summary>
    /// Every searched shard's hits (null: not searched, or missing), in one message per silo: each shard's copy is chosen from one
    /// rotating position (so replicas share the load), and each silo's <see cref="ISiloSearchGrain"/> searches the
    /// copies chosen there. A copy that did not answer, or a silo that did not answer in time, leaves its shards to
    /// <see cref="QueryShardAsync"/> on their other copies in the time kept for that (<see cref="FallbackMargin"/>);
    /// a silo whose search grain failed outright (one running an older release, say) is asked again copy by copy.
    /// </summary>
    private async Task<ShardHits?[]> GatherAsync(ClusterLayout layout, ShardQuery query, ulong[]?[]? filters, DateTime deadline)
    {
        var hits = new ShardHits?[layout.Shards.Length];
        uint start = (uint)Interlocked.Increment(ref _searchRotation);
        var bySilo = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        foreach (var p in layout.Shards)
        {
            // Only shards with ids to search under an id filter (ShardFiltersAsync: empty when it holds none of them,
            // null when its payloads could not be read).
            if (filters is not null && filters[p.Shard] is not { Length: > 0 }) continue;
            var copies = p.InSync();
            string silo = copies[(int)(start % (uint)copies.Length)];
            if (!bySilo.TryGetValue(silo, out var shards)) bySilo[silo] = shards = [];
            shards.Add(p.Shard);
        }
        await Task.WhenAll(bySilo.Select(async g =>
        {
            var shards = g.Value;
            ShardHits?[]? answers = null;
            string? except = g.Key;
            var left = deadline - DateTime.UtcNow;
            if (left > TimeSpan.Zero)
            {
                var keys = shards.Select(s => new ShardKey(g.Key, layout.Database, layout.Collection, s).ToString()).ToArray();
                var margin = FallbackMargin(left);
                var call = _grains.GetGrain<ISiloSearchGrain>(ShardKey.SearchKey(g.Key))
                    .SearchAsync(keys, query, filters is null ? null : shards.Select(s => filters[s]).ToArray(), left - margin);
                // The silo answers by left − margin; waiting until left − margin / 2 leaves half the margin for the
                // shards' other copies when it does not.
                bool answered = await call.CompletesWithin(left - margin / 2);
                if (answered && call.IsCompletedSuccessfully) answers = call.Result;
                else
                {
                    call.ObserveFaults();
                    if (answered) except = null;
                }
            }
            await Task.WhenAll(shards.Select(async (s, i) => hits[s] = answers?[i]
                ?? await QueryShardAsync(layout, layout.Shards[s], filters is null ? query : query with { FilterIds = filters[s] }, deadline, except)));
        }));
        return hits;
    }

    /// <summary>
    /// The part of the time left that a silo's search grain does not spend waiting for its copies, kept for asking a
    /// slow copy's other copies: a tenth of it, at least 50 ms (but never over half) and at most 250 ms.
    /// </summary>
    private static TimeSpan FallbackMargin(TimeSpan left) =>
        TimeSpan.FromTicks(Math.Min(left.Ticks / 2, Math.Clamp(left.Ticks / 10, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromMilliseconds(250).Ticks)));

    /// <summary>
    /// Asks the shard's in-sync copies in turn (rotating, so replicas share the load), other than the one on
    /// <paramref name="except"/>, until one answers or the deadline passes; null means the shard is missing from the
    /// result.
    /// </summary>
    private async Task<ShardHits?> QueryShardAsync(ClusterLayout layout, ShardPlacement p, ShardQuery query, DateTime deadline, string? except = null)
    {
        foreach (var silo in ReadOrder(p, primaryFirst: false))
        {
            if (silo == except) continue;
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) break;
            var call = Copy(layout, p.Shard, silo).SearchAsync(query);
            if (await call.CompletesWithin(left) && call.IsCompletedSuccessfully) return call.Result;
            call.ObserveFaults();
        }
        return null;
    }

    /// <summary>
    /// Per-shard id filters: the id set split by shard, and a payload predicate (a delegate cannot cross processes)
    /// evaluated here over each shard's ids and payloads, so it costs a payload scan per query. Null without a
    /// filter; a null entry marks a shard whose payloads could not be read (reported missing).
    /// </summary>
    private async Task<ulong[]?[]?> ShardFiltersAsync(ClusterLayout layout, SearchFilter? filter, DateTime deadline)
    {
        if (filter is null || (filter.Ids is null && filter.Predicate is null)) return null;
        var perShard = new ulong[]?[layout.Shards.Length];
        List<ulong>[]? split = null;
        if (filter.Ids is not null)
        {
            split = layout.Shards.Select(_ => new List<ulong>()).ToArray();
            foreach (var id in filter.Ids) split[layout.ShardOf(id)].Add(id);
        }
        if (filter.Predicate is null)
        {
            for (int s = 0; s < perShard.Length; s++) perShard[s] = split![s].ToArray();
            return perShard;
        }
        await Task.WhenAll(layout.Shards.Select(async p =>
        {
            if (split is not null && split[p.Shard].Count == 0) { perShard[p.Shard] = []; return; }
            foreach (var silo in ReadOrder(p, primaryFirst: false))
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) return;
                var call = Copy(layout, p.Shard, silo).PayloadsAsync(split?[p.Shard].ToArray());
                if (await call.CompletesWithin(left) && call.IsCompletedSuccessfully)
                {
                    var page = call.Result;
                    perShard[p.Shard] = page.Ids.Where((id, i) => filter.Predicate(id, page.Payloads[i])).ToArray();
                    return;
                }
                call.ObserveFaults();
            }
        }));
        return perShard;
    }

    private async Task RefreshQuietlyAsync()
    {
        try { await GetLayoutAsync(); }
        catch (Exception) { /* the next call tries again */ }
    }
}
