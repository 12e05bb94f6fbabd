using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using VectorStore.Cluster.Layout;
using VectorStore.Cluster.Shards;

namespace VectorStore.Cluster.Hosting;

/// <summary>
/// Deletes this silo's shard copies that no layout gives it any more. A copy is normally deleted by the layout
/// grain's push (role None); a silo that was down when the push came keeps the copy on disk for good, unnoticed by
/// <c>info</c>. Every <see cref="VectorStoreSiloOptions.OrphanSweepInterval"/> this reads the layout of each
/// collection with a copy here and asks the copy's grain to delete itself where <see cref="OrphanedCopy"/> says so;
/// the grain reads the layout again in its own turn before deleting anything.
/// </summary>
/// <remarks>Thread-safety: one background loop per silo.</remarks>
internal sealed partial class OrphanCopySweep(
    ShardStore store,
    IClusterMembershipService membership,
    IGrainFactory grains,
    ILocalSiloDetails local,
    IOptions<VectorStoreSiloOptions> options,
    ILogger<OrphanCopySweep> log) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(OrphanCopySweep), ServiceLifecycleStage.Active, Start, Stop);

    private Task Start(CancellationToken ct)
    {
        if (options.Value.OrphanSweepInterval != Timeout.InfiniteTimeSpan) _loop = Task.Run(LoopAsync);
        return Task.CompletedTask;
    }

    private async Task Stop(CancellationToken ct)
    {
        await _stop.CancelAsync();
        await ((Task)Task.WhenAny(_loop, Task.Delay(TimeSpan.FromSeconds(1), ct))).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task LoopAsync()
    {
        try
        {
            using var timer = new PeriodicTimer(options.Value.OrphanSweepInterval);
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                try { await SweepAsync(_stop.Token); }
                catch (Exception e) when (e is not OperationCanceledException) { LogSweepFailed("the local copies", e.Message); }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>One look at every local copy; returns the bytes freed.</summary>
    internal async Task<long> SweepAsync(CancellationToken ct)
    {
        string me = SiloIdentity.Of(local.Name, local.SiloAddress);
        var byCollection = store.Database.CollectionNames
            .Select(OrphanedCopy.ShardOf).OfType<(string Database, string Collection, int Shard)>()
            .Distinct()
            .GroupBy(s => (s.Database, s.Collection));
        long freed = 0;
        foreach (var copies in byCollection)
        {
            ct.ThrowIfCancellationRequested();
            string key = $"{copies.Key.Database}/{copies.Key.Collection}";
            ClusterLayout? layout;
            bool dropped;
            try { (layout, dropped, _) = await grains.GetGrain<ILayoutGrain>(key).GetWithDropAsync(); }
            catch (Exception e)
            {
                // Never on a layout that could not be read.
                LogSweepFailed(key, e.Message);
                continue;
            }
            var active = SiloIdentity.ActiveIdentities(membership.CurrentSnapshot);
            foreach (var (database, collection, shard) in copies.OrderBy(c => c.Shard))
            {
                if (!OrphanedCopy.IsOrphaned(layout, dropped, shard, me, active)) continue;
                try { freed += await grains.GetGrain<IShardReplicaGrain>(new ShardKey(me, database, collection, shard).ToString()).ReleaseIfOrphanedAsync(); }
                catch (Exception e) { LogSweepFailed($"{key} shard {shard}", e.Message); }
            }
        }
        return freed;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking for copies no layout gives this silo: {What} skipped ({Reason}); the next look tries again")]
    private partial void LogSweepFailed(string what, string reason);
}
