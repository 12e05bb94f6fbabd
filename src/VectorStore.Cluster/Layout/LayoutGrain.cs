using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Runtime;
using VectorStore.Cluster.Hosting;
using VectorStore.Cluster.Shards;

namespace VectorStore.Cluster.Layout;

/// <summary>
/// Owner of one collection's layout. Orleans keeps one activation per key and the state is written with an ETag
/// check, so there is one writer; each new version is persisted before any shard is told about it.
/// </summary>
/// <remarks>
/// Thread-safety: reentrant so <see cref="GetAsync"/> never waits behind a long copy; every change holds
/// <see cref="_gate"/>, so changes are serialized.
/// </remarks>
[Reentrant]
internal sealed partial class LayoutGrain(
    [PersistentState("layout", ClusterStorage.Name)] IPersistentState<LayoutState> state,
    IClusterMembershipService membership,
    IOptions<VectorStoreSiloOptions> options,
    ILogger<LayoutGrain> log) : Grain, ILayoutGrain
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    private ClusterLayout? Current => state.State.Layout;

    public Task<ClusterLayout?> GetAsync() => Task.FromResult(Current);

    /// <summary>The state last persisted while a newer one is being written (null otherwise).</summary>
    private LayoutState? _saving;

    // Only what is persisted: a layout being written may still fail and be rolled back, and a copy deleted on it would
    // be gone for a layout that never was (GetAsync may show it: it steers reads and writes, which retry).
    public Task<(ClusterLayout? Layout, bool Dropped, long DroppedVersion)> GetWithDropAsync()
    {
        var saved = _saving ?? state.State;
        return Task.FromResult((saved.Layout, saved.Dropped, saved.DroppedVersion));
    }

    public async Task<ClusterLayout> CreateAsync(CollectionSpec spec, int shards, int replication)
    {
        await _gate.WaitAsync();
        try
        {
            if (Current is not null) throw new InvalidArgumentException($"collection '{Current.Collection}' already exists");
            var key = this.GetPrimaryKeyString();
            int slash = key.IndexOf('/');
            var alive = Alive();
            var dropped = state.State;
            var layout = LayoutPlanner.Create(key[..slash], key[(slash + 1)..], spec,
                shards > 0 ? shards : Math.Max(1, 2 * alive.Count), replication > 0 ? replication : Math.Min(2, alive.Count),
                alive, SlotHash.DefaultSlotCount, dropped.DroppedVersion + 1);
            // Copies of a dropped collection of this name left on silos that missed the drop would otherwise be taken
            // for the new collection's (a copy adopts its local data by name); the tombstone still stands, so each
            // copy's own check deletes them. Every shard number the new layout uses too: a silo that missed two drops
            // may hold copies of an older one.
            if (dropped.Dropped) await ReleaseDroppedCopiesAsync(key[..slash], key[(slash + 1)..], Math.Max(dropped.DroppedShards, layout.Shards.Length), alive);
            // Only the creation push may start a copy empty (a copy that finds no data later has lost it), so one that
            // did not arrive is sent again before the create returns.
            var missed = await CommitAsync(layout, created: true);
            for (int attempt = 1; missed.Count > 0 && attempt <= CreationPushRetries; attempt++)
            {
                await Task.Delay(TimeSpan.FromSeconds(attempt));
                missed = await PushAsync(layout, missed, created: true, CreationPushRetryTimeout);
            }
            foreach (var (silo, shard) in missed) LogCreationPushMissed(silo, shard);
            return layout;
        }
        finally { _gate.Release(); }
    }

    public async Task ReconcileAsync()
    {
        await _gate.WaitAsync();
        try { await ReconcileLockedAsync(); }
        finally { _gate.Release(); }
        CheckLadder();
    }

    public async Task ReportFailureAsync(int shard, string silo, long epoch)
    {
        await _gate.WaitAsync();
        try
        {
            var layout = Current;
            if (layout is null || shard >= layout.Shards.Length || layout.Shards[shard].Epoch != epoch) return;
            if (Alive().Contains(silo) && LayoutPlanner.Eject(layout, shard, silo) is { } ejected)
            {
                LogEject(silo, shard);
                await CommitAsync(ejected);
            }
            await ReconcileLockedAsync();
        }
        finally { _gate.Release(); }
    }

    public async Task ReportLostCopyAsync(int shard, string silo, long epoch)
    {
        await _gate.WaitAsync();
        try
        {
            var layout = Current;
            if (layout is null || shard >= layout.Shards.Length || layout.Shards[shard].Epoch != epoch) return;
            // Nothing to change (a primary with no live replica stays, unavailable): no reconcile either, whose closing
            // push to every copy would have the lost copy report again, round after round.
            if (LayoutPlanner.DropLostCopy(layout, shard, silo, Alive()) is not { } next) return;
            LogLostCopyDropped(silo, shard);
            await CommitAsync(next);
            await ReconcileLockedAsync();
        }
        finally { _gate.Release(); }
    }

    public async Task DropAsync()
    {
        await _gate.WaitAsync();
        try
        {
            var layout = Current;
            if (layout is null) return;
            var retired = LayoutPlanner.Retired(layout);
            await ConfigureAsync(layout, retired);
            // A tombstone, not a cleared state: copies on silos that were down during the drop are deleted when their
            // silo's sweep reads it (OrphanedCopy); a missing layout proves nothing.
            await SaveAsync(new LayoutState { Dropped = true, DroppedVersion = retired.Version, DroppedShards = layout.Shards.Length });
        }
        finally { _gate.Release(); }
    }

    /// <summary>
    /// Asks every active silo's copy of each of a dropped collection's <paramref name="shards"/> to delete itself (the
    /// copy checks the tombstone). When one cannot be asked, the create is refused (retryable): the new collection
    /// could otherwise serve that copy's old data as its own.
    /// </summary>
    private async Task ReleaseDroppedCopiesAsync(string database, string collection, int shards, IEnumerable<string> silos)
    {
        var calls = silos.SelectMany(silo => Enumerable.Range(0, shards).Select(async shard =>
        {
            try
            {
                // Bounded well below the create's own timeout, so a hung silo refuses the create rather than outliving it.
                await GrainFactory.GetGrain<IShardReplicaGrain>(new ShardKey(silo, database, collection, shard).ToString()).ReleaseIfOrphanedAsync()
                    .WaitAsync(ReleaseOnCreateTimeout);
                return null;
            }
            catch (Exception e)
            {
                LogReleaseFailed(silo, shard, e.Message);
                return $"{silo} shard {shard}: {e.Message}";
            }
        })).ToArray();
        var failed = (await Task.WhenAll(calls)).OfType<string>().ToArray();
        if (failed.Length > 0)
            throw new ClusterUnavailableException($"collection '{collection}' was dropped and its old copies could not all be cleared before creating it again ({failed[0]}" +
                (failed.Length > 1 ? $", and {failed.Length - 1} more" : "") + "); nothing was created: retry once the cluster has settled");
    }

    private static readonly TimeSpan ReleaseOnCreateTimeout = TimeSpan.FromSeconds(30);

    private async Task ReconcileLockedAsync()
    {
        var layout = Current;
        if (layout is null) return;
        // Steps run one at a time under the gate, so a learner found here was left by an interrupted step.
        foreach (var p in layout.Shards)
            foreach (var learner in p.Learners)
                layout = LayoutPlanner.DropLearner(layout, p.Shard, learner);
        if (layout != Current) await CommitAsync(layout);

        for (int guard = 0; guard < 4 * layout.Shards.Length + 8; guard++)
        {
            var alive = Alive();
            if (LayoutPlanner.RemoveDead(Current!, alive) is { } survived)
            {
                LogFailover(survived.Version);
                await CommitAsync(survived);
            }
            var step = LayoutPlanner.NextStep(Current!, alive);
            if (step is null) break;
            if (!await ExecuteAsync(step)) await Task.Delay(500);
        }
        // Anti-entropy: a copy that missed a push (timeout, restart) learns its role again.
        await ConfigureAsync(null, Current!);
    }

    /// <summary>Adds the learner, has the primary copy itself to it page by page, then promotes it.</summary>
    private async Task<bool> ExecuteAsync(RepairStep step)
    {
        var withLearner = LayoutPlanner.AddLearner(Current!, step.Shard, step.Target);
        await CommitAsync(withLearner);
        var placement = withLearner.Shards[step.Shard];
        long session = placement.SessionOf(step.Target);
        var primary = Replica(withLearner, step.Shard, placement.Primary);
        int pageSize = options.Value.CopyPageSize;
        try
        {
            while (!await primary.CopyStepAsync(step.Target, session, pageSize)) { }
        }
        catch (Exception e)
        {
            LogCopyFailed(e, step.Shard, step.Target);
            await CommitAsync(LayoutPlanner.DropLearner(Current!, step.Shard, step.Target));
            return false;
        }
        try
        {
            // A new copy serves with the live generation's codec from its first read.
            await TransferLiveGenerationAsync(withLearner, step.Shard, step.Target);
        }
        catch (Exception e)
        {
            LogCopyFailed(e, step.Shard, step.Target);
            await CommitAsync(LayoutPlanner.DropLearner(Current!, step.Shard, step.Target));
            return false;
        }
        await CommitAsync(LayoutPlanner.Promote(Current!, step.Shard, step.Target, step.Source));
        LogMoved(step.Shard, step.Target, step.Source);
        return true;
    }

    /// <summary>
    /// Persists <paramref name="next"/>, then tells every copy whose placement changed (<paramref name="created"/>: the
    /// collection's creation, whose copies start empty).
    /// </summary>
    private async Task<List<(string Silo, int Shard)>> CommitAsync(ClusterLayout next, bool created = false)
    {
        var previous = Current;
        await SaveAsync(new LayoutState { Layout = next });
        return await ConfigureAsync(previous, next, created);
    }

    /// <summary>Persists <paramref name="next"/> as the state; on failure the state stays what it was.</summary>
    private async Task SaveAsync(LayoutState next)
    {
        var previous = state.State;
        _saving = previous;
        state.State = next;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Not persisted, so not real: nobody hears of it. An ETag conflict means another activation wrote; this
            // one re-reads on its next activation.
            state.State = previous;
            DeactivateOnIdle();
            throw;
        }
        finally
        {
            _saving = null;
        }
    }

    /// <summary>
    /// Pushes assignments in an order that keeps writes safe: new learners first (so the primary's first forward
    /// finds them ready), then a deposed primary (its queued writes finish, then it refuses), then the primary, the
    /// other members, and last the retired copies (which drop their data). A dead silo's failure is ignored.
    /// </summary>
    private async Task<List<(string Silo, int Shard)>> ConfigureAsync(ClusterLayout? previous, ClusterLayout next, bool created = false)
    {
        var phases = new List<(string Silo, int Shard)>[5];
        for (int i = 0; i < phases.Length; i++) phases[i] = [];
        for (int s = 0; s < next.Shards.Length; s++)
        {
            var now = next.Shards[s];
            var before = previous?.Shards[s];
            if (before is not null && ReferenceEquals(before, now)) continue;
            var oldMembers = before?.Members() ?? [];
            var newMembers = now.Members();
            foreach (var l in now.Learners.Where(l => before is null || before.SessionOf(l) != now.SessionOf(l))) phases[0].Add((l, s));
            if (before is not null && before.Primary != now.Primary && before.Primary.Length > 0) phases[1].Add((before.Primary, s));
            if (now.Primary.Length > 0) phases[2].Add((now.Primary, s));
            foreach (var m in newMembers.Skip(1).Where(m => !phases[0].Contains((m, s)))) phases[3].Add((m, s));
            foreach (var m in oldMembers.Where(m => !newMembers.Contains(m) && m != before!.Primary)) phases[4].Add((m, s));
        }
        var missed = new List<(string Silo, int Shard)>();
        foreach (var phase in phases) missed.AddRange(await PushAsync(next, phase, created));
        return missed;
    }

    /// <summary>Tells each of <paramref name="targets"/> its assignment in <paramref name="layout"/>; returns those that failed.</summary>
    private async Task<List<(string Silo, int Shard)>> PushAsync(ClusterLayout layout, IEnumerable<(string Silo, int Shard)> targets, bool created,
        TimeSpan? timeout = null)
    {
        var missed = new List<(string Silo, int Shard)>();
        await Task.WhenAll(targets.Select(async t =>
        {
            try
            {
                var push = Replica(layout, t.Shard, t.Silo).ConfigureAsync(ShardAssignment.For(layout, t.Shard, t.Silo, created));
                if (timeout is { } bound) await push.WaitAsync(bound);
                else await push;
            }
            catch (Exception e)
            {
                LogConfigureFailed(t.Silo, t.Shard, e.Message);
                lock (missed) missed.Add(t);
            }
        }));
        return missed;
    }

    private HashSet<string> Alive() => SiloIdentity.ActiveIdentities(membership.CurrentSnapshot);

    private IShardReplicaGrain Replica(ClusterLayout layout, int shard, string silo) =>
        GrainFactory.GetGrain<IShardReplicaGrain>(new ShardKey(silo, layout.Database, layout.Collection, shard).ToString());

    [LoggerMessage(Level = LogLevel.Warning, Message = "Re-creating a dropped collection: {Silo}'s copy of its shard {Shard} could not be cleared ({Reason}); the create is refused")]
    private partial void LogReleaseFailed(string silo, int shard, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Layout version {Version}: dead silos removed, replicas promoted")]
    private partial void LogFailover(long version);

    /// <summary>Further tries of a creation push that failed, a second more apart each time, each bounded by
    /// <see cref="CreationPushRetryTimeout"/> (the first push waits out the call's own timeout).</summary>
    private const int CreationPushRetries = 3;

    private static readonly TimeSpan CreationPushRetryTimeout = TimeSpan.FromSeconds(10);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The creation push to {Silo}'s copy of shard {Shard} failed every time; that copy will count as lost (replaced from a replica, or unavailable with none)")]
    private partial void LogCreationPushMissed(string silo, int shard);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropping {Silo}'s copy of shard {Shard}: it has lost its data; a fresh copy replaces it")]
    private partial void LogLostCopyDropped(string silo, int shard);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ejecting {Silo} from shard {Shard}: it failed to apply a batch")]
    private partial void LogEject(string silo, int shard);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Copy of shard {Shard} to {Silo} failed")]
    private partial void LogCopyFailed(Exception e, int shard, string silo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shard {Shard} copied to {Target} (retired: {Source})")]
    private partial void LogMoved(int shard, string target, string? source);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Configure {Silo} shard {Shard} failed: {Reason}")]
    private partial void LogConfigureFailed(string silo, int shard, string reason);
}
