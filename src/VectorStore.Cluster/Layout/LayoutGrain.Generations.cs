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
        // One build of a number at a time, and no transfer, promotion or gc of it meanwhile: staged pages are keyed
        // by number on each copy.
        if (!_building.Add(number)) throw new InvalidArgumentException($"generation {number} is already being built");
        string? failure;
        try { failure = await BuildEverywhereAsync(number); }
        catch (Exception e) { failure = $"{e.GetType().Name}: {e.Message}"; }
        finally { _building.Remove(number); }
        if (failure is not null) await WithdrawIfNowhereAsync(number);
        return failure;
    }

    private async Task<string?> BuildEverywhereAsync(int number)
    {
        var layout = Existing();
        var g = Find(layout, number);
        var primaries = layout.Shards.Select(p => Replica(layout, p.Shard, p.Primary)).ToArray();
        var counts = await Task.WhenAll(primaries.Select(p => p.CountAsync()));
        long total = counts.Sum(c => (long)c);
        if (total == 0) return $"collection '{layout.Collection}' has no vectors to train a generation on";
        var copies = InSyncCopies(layout);
        // The same sizing as the cluster's first training, seeded by the generation's number.
        await DrawSampleAsync(layout, primaries, counts, total, layout.Spec.Seed + 7919 * number, (page, reset) =>
            Task.WhenAll(copies.Select(c => c.Grain.StageGenerationSampleAsync(number, page.Vectors, reset))));
        var started = await Task.WhenAll(copies.Select(c => Guard(c.Grain.StartGenerationAsync(number, g.Compression, g.Index))));
        var waited = await Task.WhenAll(copies.Select((c, i) => started[i] is null ? Guard(c.Grain.WaitGenerationAsync(number)) : Task.FromResult(started[i])));
        return Failures(copies, waited);
    }

    /// <summary>A copy's answer, or what it threw, as a failure text.</summary>
    private static async Task<string?> Guard(Task<string?> call)
    {
        try { return await call; }
        catch (Exception e) { return $"{e.GetType().Name}: {e.GetBaseException().Message}"; }
    }

    /// <summary>
    /// After a failed build: a candidate no in-sync copy holds without an error (a bad spec, a sample that never
    /// reached the copies) is withdrawn from the layout and from every copy, so it holds no slot for ever.
    /// </summary>
    private async Task WithdrawIfNowhereAsync(int number)
    {
        await _gate.WaitAsync();
        try
        {
            var layout = Existing();
            if (layout.AllGenerations().FirstOrDefault(x => x.Number == number) is not { Kind: GenerationState.Candidate }) return;
            var infos = await Task.WhenAll(InSyncCopies(layout).Select(c => GenerationsOfOrEmpty(c.Grain)));
            if (infos.Any(copy => copy.Any(x => x.Generation == number && x.Error is null))) return;
            await DropFromLayoutAsync(layout, [number]);
        }
        finally { _gate.Release(); }
    }

    /// <summary>Under the gate: removes generations from the layout, then from every copy (with their kept samples).</summary>
    private async Task DropFromLayoutAsync(ClusterLayout layout, int[] numbers)
    {
        var kept = layout.AllGenerations().Where(x => !numbers.Contains(x.Number)).ToArray();
        layout = LayoutPlanner.WithGenerations(layout, kept, layout.LastGeneration, layout.Policy);
        await CommitAsync(layout);
        foreach (int d in numbers) await ForEachCopyAsync(layout, c => c.DropGenerationAsync(d), $"dropping generation {d}");
    }

    private static async Task<GenerationInfo[]> GenerationsOfOrEmpty(IShardReplicaGrain copy)
    {
        try { return await GenerationsOf(copy); }
        catch (Exception) { return []; }
    }

    public async Task<int> SetLiveAsync(int number, bool rollback, string? gate)
    {
        await _gate.WaitAsync();
        try
        {
            var layout = Existing();
            var all = layout.AllGenerations();
            var live = layout.Live();
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
                : x.Number == live.Number ? x with { State = (int)(rollback ? GenerationState.Candidate : GenerationState.Retired), RetiredOrder = order }
                : x).ToList();
            var dropped = rollback ? [] : BeyondRetention(next, layout.ReadPolicy().RetainRetired);
            layout = LayoutPlanner.WithGenerations(layout, [.. next], layout.LastGeneration, layout.Policy);
            await CommitAsync(layout);
            // Recorded: from here the layout says which generation is live, and copies that miss this catch up.
            await ForEachCopyAsync(layout, c => c.SetLiveGenerationAsync(target.Number), "switching generation");
            if (dropped.Length > 0) await DropFromLayoutAsync(layout, dropped);
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
            var all = layout.AllGenerations();
            var infos = await Task.WhenAll(InSyncCopies(layout).Select(c => GenerationsOf(c.Grain)));
            // Failed: some copy's build failed, or no copy holds it at all (and no build of it is running). A copy that
            // merely lacks it (an empty shard, a copy made after the build) does not make it failed: promotion gives it.
            var failed = all.Where(g => g.Kind == GenerationState.Candidate && !_building.Contains(g.Number)
                && (infos.Any(copy => copy.Any(x => x.Generation == g.Number && x.Error is not null))
                    || infos.All(copy => copy.All(x => x.Generation != g.Number)))).Select(g => g.Number);
            var drop = BeyondRetention(all, layout.ReadPolicy().RetainRetired).Concat(failed).Distinct().ToArray();
            if (drop.Length > 0) await DropFromLayoutAsync(layout, drop);
            return drop.Length;
        }
        finally { _gate.Release(); }
    }

    public async Task SetPolicyAsync(string policy)
    {
        var p = JsonSerializer.Deserialize<LifecyclePolicy>(policy, ShardReplicaGrain.LifecycleJson)!;
        p.Validate();
        if (p.RollbackRecallFloor is not null)
            throw new NotSupportedException("a distributed collection has no automatic rollback under a recall floor yet (the live generation's own recall is measured per copy): watch the canary and roll back through the cluster");
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
        var live = layout.Live();
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
        if (_building.Contains(g.Number)) throw new InvalidArgumentException($"generation {g.Number} is still being built; wait for the build");
        var copies = InSyncCopies(layout);
        var infos = await Task.WhenAll(copies.Select(c => GenerationsOf(c.Grain)));
        // Refused, not waited for, while a copy is still building it: the gate is held here and failover waits on it.
        var building = copies.Select((c, i) => (c, Info: infos[i].FirstOrDefault(x => x.Generation == g.Number)))
            .Where(t => t.Info is { Error: null, Ready: false }).Select(t => $"{t.c.Name}: built {t.Info!.Progress:P0}").ToArray();
        if (building.Length > 0) throw new InvalidArgumentException($"generation {g.Number} is not ready everywhere ({string.Join("; ", building)})");
        var lacking = copies.Where((c, i) => infos[i].FirstOrDefault(x => x.Generation == g.Number) is not { Error: null }).ToArray();
        if (lacking.Length == 0) return infos;
        var errors = await Task.WhenAll(lacking.Select(c => TransferAsync(layout, g, c.Grain)));
        if (Failures(lacking, errors) is { } failure) throw new ClusterUnavailableException($"generation {g.Number} could not be built everywhere: {failure}");
        return await Task.WhenAll(copies.Select(c => GenerationsOf(c.Grain)));
    }

    /// <summary>
    /// Copies the kept sample of <paramref name="g"/> from a copy that has it to <paramref name="target"/> and builds it
    /// there; a source that fails (no file, a damaged one, no answer) is passed over for the next.
    /// </summary>
    private async Task<string?> TransferAsync(ClusterLayout layout, ClusterGeneration g, IShardReplicaGrain target)
    {
        if (_building.Contains(g.Number)) return $"generation {g.Number} is still being built";
        int pageSize = options.Value.CopyPageSize;
        int dim = layout.Spec.Dimension;
        var tried = new List<string>();
        foreach (var (_, name, source) in InSyncCopies(layout).Where(c => c.Grain.GetPrimaryKeyString() != target.GetPrimaryKeyString()))
        {
            try
            {
                var page = await source.ReadGenerationSampleAsync(g.Number, dim, 0, pageSize);
                if (page is null) continue;
                for (int row = 0; page.Length > 0; )
                {
                    await target.StageGenerationSampleAsync(g.Number, page, reset: row == 0);
                    row += page.Length / dim;
                    if (page.Length < pageSize * dim) break;
                    page = await source.ReadGenerationSampleAsync(g.Number, dim, row, pageSize) ?? [];
                }
                return await Guard(target.StartGenerationAsync(g.Number, g.Compression, g.Index)) ?? await Guard(target.WaitGenerationAsync(g.Number));
            }
            catch (Exception e)
            {
                tried.Add($"{name}: {e.GetBaseException().Message}");
            }
        }
        return tried.Count == 0
            ? $"no copy kept the training sample of generation {g.Number}: build a new generation"
            : $"no copy could give the training sample of generation {g.Number} ({string.Join("; ", tried)})";
    }

    private static async Task<GenerationInfo[]> GenerationsOf(IShardReplicaGrain copy) =>
        JsonSerializer.Deserialize<GenerationInfo[]>(await copy.GenerationsJsonAsync(), ShardReplicaGrain.LifecycleJson)!;

    /// <summary>Calls every in-sync copy; failures are logged (the copy catches up from the layout), not thrown.</summary>
    private async Task ForEachCopyAsync(ClusterLayout layout, Func<IShardReplicaGrain, Task> call, string what)
    {
        await Task.WhenAll(InSyncCopies(layout).Select(async c =>
        {
            try { await call(c.Grain); }
            catch (Exception e) { LogLifecycleCallFailed(c.Name, what, e.Message); }
        }));
    }

    private (int Shard, string Name, IShardReplicaGrain Grain)[] InSyncCopies(ClusterLayout layout) =>
        layout.Shards.SelectMany(p => p.InSync().Select(silo => (p.Shard, $"shard {p.Shard} on {silo}", Replica(layout, p.Shard, silo)))).ToArray();

    private static string? Failures((int Shard, string Name, IShardReplicaGrain Grain)[] copies, string?[] errors)
    {
        var bad = copies.Zip(errors).Where(t => t.Second is not null).ToArray();
        if (bad.Length == 0) return null;
        // One reason everywhere (a spec every engine refuses) is said once.
        if (bad.Select(t => t.Second).Distinct().Count() == 1)
            return $"{(bad.Length == copies.Length ? "every copy" : string.Join(", ", bad.Select(t => t.First.Name)))}: {bad[0].Second}";
        return string.Join("; ", bad.Select(t => $"{t.First.Name}: {t.Second}"));
    }

    /// <summary>
    /// Numbers of retired generations beyond the newest <paramref name="keep"/>, and of rolled-back ones (candidates
    /// again, stamped with an order when they left live) beyond as many, as an engine collection collects them
    /// (<c>Collection.CollectGenerations</c>): otherwise promote-rollback cycles fill the generation limit for good.
    /// </summary>
    private static int[] BeyondRetention(IEnumerable<ClusterGeneration> all, int keep) =>
        all.Where(g => g.Kind == GenerationState.Retired).OrderByDescending(g => g.RetiredOrder).Skip(keep)
            .Concat(all.Where(g => g.Kind == GenerationState.Candidate && g.RetiredOrder > 0).OrderByDescending(g => g.RetiredOrder).Skip(keep))
            .Select(g => g.Number).ToArray();

    private ClusterLayout Existing() => Current ?? throw new InvalidArgumentException($"collection '{this.GetPrimaryKeyString()}' does not exist");

    private static ClusterGeneration Find(ClusterLayout layout, int number) =>
        layout.AllGenerations().FirstOrDefault(g => g.Number == number)
        ?? throw new InvalidArgumentException($"collection '{layout.Collection}' has no generation {number} (generations: {string.Join(", ", layout.AllGenerations().Select(g => g.Number))})");

    // Numbers whose build is fanning out (in memory: a re-activated layout grain has none running).
    private readonly HashSet<int> _building = [];

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Warning, Message = "{Copy}: {What} failed ({Reason}); the copy catches up from the layout at the next push")]
    private partial void LogLifecycleCallFailed(string copy, string what, string reason);

    /// <summary>Non-live generations kept at most, as in the engine.</summary>
    private const int MaxOtherGenerations = 8;
}
