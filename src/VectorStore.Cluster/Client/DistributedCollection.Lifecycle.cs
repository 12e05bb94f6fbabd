using System.Text.Json;
using VectorStore.Cluster.Layout;
using VectorStore.Cluster.Shards;
using VectorStore.Collections;
using VectorStore.Distance;
using VectorStore.Lifecycle;

namespace VectorStore.Cluster;

/// <summary>
/// The compression lifecycle of a distributed collection: the embedded collection's generations, canary, exposure,
/// promotion, rollback and drift, applied to every shard. A generation is built on every copy from one shared sample
/// (the same codec everywhere); which generation is live is recorded in the layout, so every shard switches together
/// and a copy that missed a switch catches up. Figures are aggregated over shards (<see cref="GenerationAggregate"/>):
/// canary recall is each shard's own top k against its own exact top k, averaged over shards.
/// </summary>
public sealed partial class DistributedCollection
{
    /// <summary>
    /// Declares a candidate generation and builds it on every copy from one shared sample; with
    /// <paramref name="wait"/>, returns once every copy has built it (or throws which failed). The collection must be
    /// trained. Returns its number.
    /// </summary>
    public async Task<int> BuildGenerationAsync(string compression, string index, bool wait = true)
    {
        int number = await GrainCalls.RunAsync(() => LayoutGrain.DeclareGenerationAsync(compression, index), $"declaring a generation of '{Name}'", mayHaveApplied: true);
        var build = GrainCalls.RunAsync(() => LayoutGrain.BuildGenerationAsync(number), $"building generation {number} of '{Name}'", mayHaveApplied: true);
        if (!wait)
        {
            build.Ignore();
            return number;
        }
        if (await build is { } failed) throw new InvalidArgumentException($"building generation {number} of '{Name}' failed on {failed}");
        return number;
    }

    /// <summary>
    /// Every generation, oldest first, with collection-wide readiness (every in-sync copy), sizes and canary figures
    /// (every copy's, combined as the promotion gate combines them).
    /// </summary>
    public async Task<IReadOnlyList<GenerationInfo>> ListGenerationsAsync()
    {
        var layout = await GetLayoutAsync();
        // Every in-sync copy, as a promotion checks them; one that does not answer in time counts as not holding any.
        var copies = layout.Shards.SelectMany(p => p.InSync().Select(silo => (p.Shard, Name: $"shard {p.Shard} on {silo}", Call: Copy(layout, p.Shard, silo).GenerationsJsonAsync()))).ToArray();
        var parsed = await Task.WhenAll(copies.Select(async c =>
        {
            if (await c.Call.CompletesWithin(_options.ShardTimeout) && c.Call.IsCompletedSuccessfully)
                return JsonSerializer.Deserialize<GenerationInfo[]>(c.Call.Result, ShardReplicaGrain.LifecycleJson)!;
            c.Call.ObserveFaults();
            return [];
        }));
        int live = layout.LiveGeneration;
        return layout.AllGenerations()
            .Select(g => GenerationAggregate.Info(g, copies.Select((c, i) => (c.Shard, c.Name, parsed[i].FirstOrDefault(x => x.Generation == g.Number))).ToArray(), live))
            .ToArray();
    }

    /// <summary>
    /// The offline canary on every shard (one copy each) with the same queries; recall is each shard's own (see the
    /// type's remarks). An id filter is not supported here; a field filter is.
    /// </summary>
    public async Task<CanaryReport> RunCanaryAsync(int generation, VectorMatrix queries, SearchOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(queries);
        options ??= new SearchOptions();
        Validate(queries, options);
        if (options.Filter?.Ids is not null) throw new NotSupportedException("a cluster canary takes a field filter, not an id filter");
        var q = new VectorMatrix((float[])queries.Data.Clone(), queries.Dimension);
        if (Options.Metric == Metric.Cosine)
            for (int i = 0; i < q.Count; i++) Distances.Normalize(q[i]);
        var query = new ShardQuery
        {
            Queries = q.Data,
            Dimension = q.Dimension,
            K = options.K,
            Rerank = options.Rerank,
            TargetRecall = options.TargetRecall,
            Ef = options.Ef,
            NProbe = options.NProbe,
            Where = options.Filter?.Where?.ToString(),
        };
        var layout = await GetLayoutAsync();
        var reports = await Task.WhenAll(layout.Shards.Select(p => ReadShardAsync(layout, p.Shard, c => c.RunCanaryJsonAsync(generation, query), primaryFirst: true)));
        return GenerationAggregate.Canary(reports.Select((j, s) => (s, (CanaryReport?)JsonSerializer.Deserialize<CanaryReport>(j, ShardReplicaGrain.LifecycleJson))), generation, layout.LiveGeneration)
            ?? throw new ClusterUnavailableException($"no shard of '{Name}' answered the canary");
    }

    /// <summary>Starts (replacing any) the shadow canary on every in-sync copy; figures show in <see cref="ListGenerationsAsync"/>.</summary>
    public Task StartCanaryAsync(CanarySettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        string json = JsonSerializer.Serialize(settings, ShardReplicaGrain.LifecycleJson);
        return OnEveryCopyAsync(c => c.StartCanaryAsync(json), "starting the canary");
    }

    /// <summary>Stops the shadow canary on every in-sync copy.</summary>
    public Task StopCanaryAsync() => OnEveryCopyAsync(c => c.StopCanaryAsync(), "stopping the canary");

    /// <summary>
    /// Serves <paramref name="percent"/> % of keyed searches with candidate <paramref name="generation"/> on every
    /// in-sync copy (a key lands in the same bucket on every shard, so a merged answer comes from one generation).
    /// Not persisted, as on one node.
    /// </summary>
    public Task SetExposureAsync(int generation, double percent)
    {
        if (!(percent is >= 0 and <= 100)) throw new InvalidArgumentException($"exposure percent must be in [0, 100], got {percent}");
        return OnEveryCopyAsync(c => c.SetExposureAsync(generation, percent), "setting the exposure");
    }

    /// <summary>
    /// Makes ready generation <paramref name="generation"/> live on every copy, recorded in the layout first; with a
    /// gate, refuses unless the collection-wide live-traffic canary passes it.
    /// </summary>
    public Task PromoteAsync(int generation, PromotionGate? gate = null)
    {
        gate?.Validate();
        string? json = gate is null ? null : JsonSerializer.Serialize(gate, ShardReplicaGrain.LifecycleJson);
        return GrainCalls.RunAsync(() => LayoutGrain.SetLiveAsync(generation, rollback: false, json), $"promoting generation {generation} of '{Name}'", mayHaveApplied: true);
    }

    /// <summary>Makes the newest retired generation live again everywhere; returns its number.</summary>
    public Task<int> RollbackAsync() => GrainCalls.RunAsync(() => LayoutGrain.SetLiveAsync(0, rollback: true, null), $"rolling '{Name}' back", mayHaveApplied: true);

    /// <summary>Drops retired generations beyond the policy's retention and failed candidates everywhere; returns how many.</summary>
    public Task<int> CollectGenerationsAsync() => GrainCalls.RunAsync(() => LayoutGrain.CollectGenerationsAsync(), $"collecting generations of '{Name}'");

    /// <summary>
    /// Sets the lifecycle policy. Retention and the drift ladder's build and gated promotion are run collection-wide
    /// by the layout grain (one shared sample, the combined canary), checked at every periodic reconcile; rebalancing
    /// in place and the build throttle are each copy's. An automatic rollback floor is refused
    /// (<see cref="NotSupportedException"/>).
    /// </summary>
    public Task SetLifecyclePolicyAsync(LifecyclePolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        policy.Validate();
        string json = JsonSerializer.Serialize(policy, ShardReplicaGrain.LifecycleJson);
        return GrainCalls.RunAsync(() => LayoutGrain.SetPolicyAsync(json), $"setting the lifecycle policy of '{Name}'");
    }

    /// <summary>The lifecycle policy the layout holds (the defaults when none was set).</summary>
    public async Task<LifecyclePolicy> GetLifecyclePolicyAsync() => (await GetLayoutAsync()).ReadPolicy();

    /// <summary>
    /// The drift sensors of every shard's live generation, side by side (each signal named by its shard), with the
    /// shards' and the collection-wide ladder's actions (<c>cluster: …</c>).
    /// </summary>
    public async Task<DriftReport> GetDriftAsync()
    {
        var layout = await GetLayoutAsync();
        var reports = await Task.WhenAll(layout.Shards.Select(p => ReadShardAsync(layout, p.Shard, c => c.DriftJsonAsync(), primaryFirst: true)));
        var drift = GenerationAggregate.Drift(layout.LiveGeneration, reports.Select((j, s) => (s, JsonSerializer.Deserialize<DriftReport>(j, ShardReplicaGrain.LifecycleJson)!)).ToArray());
        return drift with { Actions = [.. drift.Actions, .. await GrainCalls.RunAsync(() => LayoutGrain.LadderActionsAsync(), $"reading the drift ladder of '{Name}'")] };
    }

    /// <summary>
    /// Calls every in-sync copy of every shard; <see cref="InvalidArgumentException"/> naming the copies that refused,
    /// or <see cref="ClusterUnavailableException"/> when some did not answer.
    /// </summary>
    private async Task OnEveryCopyAsync(Func<IShardReplicaGrain, Task> call, string what)
    {
        var layout = await GetLayoutAsync();
        var calls = layout.Shards.SelectMany(p => p.InSync().Select(silo => (p.Shard, Silo: silo, Task: call(Copy(layout, p.Shard, silo))))).ToArray();
        try { await Task.WhenAll(calls.Select(c => c.Task)); }
        catch (Exception)
        {
            var failed = calls.Where(c => !c.Task.IsCompletedSuccessfully).ToArray();
            string message = $"{what} on '{Name}' failed on {string.Join("; ", failed.Select(c => $"shard {c.Shard} on {c.Silo}: {c.Task.Exception?.GetBaseException().Message}"))}";
            // A copy that refused (no such generation, a bad setting) is the caller's error; one that did not answer is the cluster's.
            if (failed.All(c => c.Task.Exception?.GetBaseException() is VectorStoreException and not UnavailableException)) throw new InvalidArgumentException(message);
            throw new ClusterUnavailableException(message);
        }
    }
}
