using System.Text.Json;
using VectorStore.Cluster.Shards;
using VectorStore.Indexing;
using VectorStore.Lifecycle;
using VectorStore.Quantization;

namespace VectorStore.Cluster.Layout;

/// <summary>
/// The compression lifecycle of a distributed collection. The layout records which generations exist and which is
/// live; every copy of every shard builds a generation from one shared sample (the same codec everywhere, so merged
/// scores compare), and a switch is recorded in the layout first, then applied to every copy (a copy that missed it
/// catches up when the layout is next pushed to it). Builds run in the engines' background and are waited for outside
/// the gate, so failover never waits behind one.
/// </summary>
internal sealed partial class LayoutGrain
{
    public async Task<int> DeclareGenerationAsync(string compression, string index)
    {
        // Parsed here so a bad spec is one clear error, not one per copy.
        CompressionSpec.Parse(compression);
        IndexSpec.Parse(index);
        await _gate.WaitAsync();
        try
        {
            var layout = Existing();
            if (layout.TrainingGeneration == 0)
                throw new InvalidArgumentException($"collection '{layout.Collection}' is not trained yet: build its index first, then build generations");
            var all = layout.AllGenerations();
            if (all.Count - 1 >= MaxOtherGenerations)
                throw new InvalidArgumentException($"collection '{layout.Collection}' already keeps {MaxOtherGenerations} generations beside the live one: promote, roll back or gc first");
            int number = Math.Max(layout.LastGeneration, all.Max(g => g.Number)) + 1;
            var declared = new ClusterGeneration { Number = number, Compression = compression, Index = index, State = (int)GenerationState.Candidate };
            await CommitAsync(LayoutPlanner.WithGenerations(layout, [.. all, declared], number, layout.Policy));
            return number;
        }
        finally { _gate.Release(); }
    }

    public async Task<string?> BuildGenerationAsync(int number)
    {
        var layout = Existing();
        var g = Find(layout, number);
        var primaries = layout.Shards.Select(p => Replica(layout, p.Shard, p.Primary)).ToArray();
        var counts = await Task.WhenAll(primaries.Select(p => p.CountAsync()));
        long total = counts.Sum(c => (long)c);
        if (total == 0) throw new InvalidArgumentException($"collection '{layout.Collection}' has no vectors to train a generation on");
        var copies = InSyncCopies(layout);
        // The same sizing as the cluster's first training, seeded by the generation's number.
        await DrawSampleAsync(layout, primaries, counts, total, layout.Spec.Seed + 7919 * number, (page, reset) =>
            Task.WhenAll(copies.Select(c => c.Grain.StageGenerationSampleAsync(number, page.Vectors, reset))));
        var started = await Task.WhenAll(copies.Select(c => c.Grain.StartGenerationAsync(number, g.Compression, g.Index)));
        var waited = await Task.WhenAll(copies.Select(c => c.Grain.WaitGenerationAsync(number)));
        return Failures(copies, started.Zip(waited, (a, b) => a ?? b).ToArray());
    }

    public async Task<int> SetLiveAsync(int number, bool rollback, string? gate)
    {
        await _gate.WaitAsync();
        try
        {
            var layout = Existing();
            var all = layout.AllGenerations();
            var live = all.First(g => g.Kind == GenerationState.Live);
            var target = rollback
                ? all.Where(g => g.Kind == GenerationState.Retired).MaxBy(g => g.RetiredOrder)
                    ?? throw new InvalidArgumentException($"collection '{layout.Collection}' has no retired generation to roll back to")
                : Find(layout, number);
            if (target.Number == live.Number) throw new InvalidArgumentException($"generation {target.Number} of '{layout.Collection}' is already live");
            // Every in-sync copy must hold it ready; one that lacks it (it joined after the build) is given it first.
            var infos = await EnsureBuiltAsync(layout, target);
            if (gate is not null)
            {
                var g = JsonSerializer.Deserialize<PromotionGate>(gate, ShardReplicaGrain.LifecycleJson)!;
                var copies = InSyncCopies(layout);
                var canary = GenerationAggregate.Canary(copies.Select((c, i) => (c.Shard, infos[i].FirstOrDefault(x => x.Generation == target.Number)?.Canary)), target.Number, live.Number);
                if ((canary is null ? "no canary figures yet" : g.Check(canary)) is { } refused)
                    throw new InvalidArgumentException($"promotion of generation {target.Number} refused by the gate: {refused}");
            }
            long order = all.Max(x => x.RetiredOrder) + 1;
            var next = all.Select(x =>
                x.Number == target.Number ? x with { State = (int)GenerationState.Live }
                : x.Number == live.Number ? x with { State = (int)(rollback ? GenerationState.Candidate : GenerationState.Retired), RetiredOrder = rollback ? x.RetiredOrder : order }
                : x).ToList();
            var dropped = rollback ? [] : BeyondRetention(next, Policy(layout).RetainRetired);
            next.RemoveAll(x => dropped.Contains(x.Number));
            layout = LayoutPlanner.WithGenerations(layout, [.. next], layout.LastGeneration, layout.Policy);
            await CommitAsync(layout);
            // Recorded: from here the layout says which generation is live, and copies that miss this catch up.
            await ForEachCopyAsync(layout, c => c.SetLiveGenerationAsync(target.Number), "switching generation");
            foreach (int d in dropped) await ForEachCopyAsync(layout, c => c.DropGenerationAsync(d), "dropping a retired generation");
            return target.Number;
        }
        finally { _gate.Release(); }
    }

    public async Task<int> CollectGenerationsAsync()
    {
        await _gate.WaitAsync();
        try
        {
            var layout = Existing();
            var all = layout.AllGenerations().ToList();
            var infos = await Task.WhenAll(InSyncCopies(layout).Select(c => GenerationsOf(c.Grain)));
            var failed = all.Where(g => g.Kind == GenerationState.Candidate
                && infos.Any(copy => copy.FirstOrDefault(x => x.Generation == g.Number) is { Error: not null })).Select(g => g.Number);
            var drop = BeyondRetention(all, Policy(layout).RetainRetired).Concat(failed).Distinct().ToArray();
            if (drop.Length == 0) return 0;
            all.RemoveAll(x => drop.Contains(x.Number));
            layout = LayoutPlanner.WithGenerations(layout, [.. all], layout.LastGeneration, layout.Policy);
            await CommitAsync(layout);
            foreach (int d in drop) await ForEachCopyAsync(layout, c => c.DropGenerationAsync(d), "dropping a generation");
            return drop.Length;
        }
        finally { _gate.Release(); }
    }

    public async Task SetPolicyAsync(string policy)
    {
        var p = JsonSerializer.Deserialize<LifecyclePolicy>(policy, ShardReplicaGrain.LifecycleJson)!;
        p.Validate();
        if (p.BuildCandidateOnDrift || p.PromoteWhenGatePasses || p.RollbackRecallFloor is not null)
            throw new NotSupportedException("a distributed collection takes no automatic build, promotion or rollback (each shard would act on its own sample and its own figures): build, canary and promote through the cluster instead");
        await _gate.WaitAsync();
        try
        {
            var layout = Existing();
            layout = LayoutPlanner.WithGenerations(layout, [.. layout.Generations], layout.LastGeneration, policy);
            await CommitAsync(layout);
            await ForEachCopyAsync(layout, c => c.SetPolicyAsync(policy), "setting the lifecycle policy");
        }
        finally { _gate.Release(); }
    }

    /// <summary>
    /// Gives a learner the live generation before it joins (after its copy of the data): the sample from a copy that
    /// kept it, the build, the switch. Nothing to do while generation 1 is live.
    /// </summary>
    private async Task TransferLiveGenerationAsync(ClusterLayout layout, int shard, string learner)
    {
        var live = layout.AllGenerations().First(g => g.Kind == GenerationState.Live);
        if (live.Number == 1) return;
        var target = Replica(layout, shard, learner);
        if (await TransferAsync(layout, live, target) is { } error) throw new InvalidOperationException($"building generation {live.Number} on {learner}: {error}");
        await target.SetLiveGenerationAsync(live.Number);
    }

    /// <summary>
    /// The generation lists of every in-sync copy, after giving <paramref name="g"/> to each copy that lacks it or
    /// whose build failed; <see cref="ClusterUnavailableException"/> when a copy still does not hold it ready.
    /// </summary>
    private async Task<GenerationInfo[][]> EnsureBuiltAsync(ClusterLayout layout, ClusterGeneration g)
    {
        var copies = InSyncCopies(layout);
        var infos = await Task.WhenAll(copies.Select(c => GenerationsOf(c.Grain)));
        var lacking = copies.Where((c, i) => infos[i].FirstOrDefault(x => x.Generation == g.Number) is not { Error: null }).ToArray();
        if (lacking.Length > 0)
        {
            var errors = await Task.WhenAll(lacking.Select(c => TransferAsync(layout, g, c.Grain)));
            if (Failures(lacking, errors) is { } failure) throw new ClusterUnavailableException($"generation {g.Number} could not be built everywhere: {failure}");
            infos = await Task.WhenAll(copies.Select(c => GenerationsOf(c.Grain)));
        }
        var waited = await Task.WhenAll(copies.Select(c => c.Grain.WaitGenerationAsync(g.Number)));
        if (Failures(copies, waited) is { } notReady) throw new InvalidArgumentException($"generation {g.Number} is not ready everywhere: {notReady}");
        return await Task.WhenAll(copies.Select(c => GenerationsOf(c.Grain)));
    }

    /// <summary>Copies the kept sample of <paramref name="g"/> from a copy that has it to <paramref name="target"/> and builds it there.</summary>
    private async Task<string?> TransferAsync(ClusterLayout layout, ClusterGeneration g, IShardReplicaGrain target)
    {
        int pageSize = options.Value.CopyPageSize;
        foreach (var (_, _, source) in InSyncCopies(layout).Where(c => c.Grain.GetPrimaryKeyString() != target.GetPrimaryKeyString()))
        {
            var page = await source.ReadGenerationSampleAsync(g.Number, 0, pageSize);
            if (page is null) continue;
            int dim = layout.Spec.Dimension;
            for (int row = 0; ; row += pageSize)
            {
                if (row > 0) page = await source.ReadGenerationSampleAsync(g.Number, row, pageSize);
                if (page is null || page.Length == 0) break;
                await target.StageGenerationSampleAsync(g.Number, page, reset: row == 0);
                if (page.Length < pageSize * dim) break;
            }
            return await target.StartGenerationAsync(g.Number, g.Compression, g.Index) ?? await target.WaitGenerationAsync(g.Number);
        }
        return $"no copy kept the training sample of generation {g.Number}: build a new generation";
    }

    private static async Task<GenerationInfo[]> GenerationsOf(IShardReplicaGrain copy) =>
        JsonSerializer.Deserialize<GenerationInfo[]>(await copy.GenerationsJsonAsync(), ShardReplicaGrain.LifecycleJson)!;

    /// <summary>Calls every in-sync copy; failures are logged (the copy catches up from the layout), not thrown.</summary>
    private async Task ForEachCopyAsync(ClusterLayout layout, Func<IShardReplicaGrain, Task> call, string what)
    {
        await Task.WhenAll(InSyncCopies(layout).Select(async c =>
        {
            try { await call(c.Grain); }
            catch (Exception e) { LogConfigureFailed(c.Name, -1, $"{what}: {e.Message}"); }
        }));
    }

    private (int Shard, string Name, IShardReplicaGrain Grain)[] InSyncCopies(ClusterLayout layout) =>
        layout.Shards.SelectMany(p => p.InSync().Select(silo => (p.Shard, $"shard {p.Shard} on {silo}", Replica(layout, p.Shard, silo)))).ToArray();

    private static string? Failures((int Shard, string Name, IShardReplicaGrain Grain)[] copies, string?[] errors)
    {
        var bad = copies.Zip(errors).Where(t => t.Second is not null).Select(t => $"{t.First.Name}: {t.Second}").ToArray();
        return bad.Length == 0 ? null : string.Join("; ", bad);
    }

    /// <summary>Numbers of retired generations beyond the newest <paramref name="keep"/>.</summary>
    private static int[] BeyondRetention(IEnumerable<ClusterGeneration> all, int keep) =>
        all.Where(g => g.Kind == GenerationState.Retired).OrderByDescending(g => g.RetiredOrder).Skip(keep).Select(g => g.Number).ToArray();

    private static LifecyclePolicy Policy(ClusterLayout layout) =>
        layout.Policy is null ? new LifecyclePolicy() : JsonSerializer.Deserialize<LifecyclePolicy>(layout.Policy, ShardReplicaGrain.LifecycleJson)!;

    private ClusterLayout Existing() => Current ?? throw new InvalidArgumentException($"collection '{this.GetPrimaryKeyString()}' does not exist");

    private static ClusterGeneration Find(ClusterLayout layout, int number) =>
        layout.AllGenerations().FirstOrDefault(g => g.Number == number)
        ?? throw new InvalidArgumentException($"collection '{layout.Collection}' has no generation {number} (generations: {string.Join(", ", layout.AllGenerations().Select(g => g.Number))})");

    /// <summary>Non-live generations kept at most, as in the engine.</summary>
    private const int MaxOtherGenerations = 8;
}
