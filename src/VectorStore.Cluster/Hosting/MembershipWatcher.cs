using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using VectorStore.Cluster.Catalog;
using VectorStore.Cluster.Layout;

namespace VectorStore.Cluster.Hosting;

/// <summary>
/// Turns Orleans membership into layout changes: when the set of active silos changes (a silo declared dead, a
/// silo joined or restarted), and every <see cref="VectorStoreSiloOptions.ReconcileInterval"/>, the elected silo (the
/// active one with the smallest identity, <see cref="SiloIdentity"/>) asks every layout grain to reconcile. Election only saves work: reconciling is
/// serialized in each layout grain and idempotent, so two silos briefly both acting is harmless.
/// </summary>
/// <remarks>Thread-safety: one background loop per silo; <see cref="_running"/> keeps passes from overlapping.</remarks>
internal sealed partial class MembershipWatcher(
    IClusterMembershipService membership,
    IGrainFactory grains,
    ILocalSiloDetails local,
    IOptions<VectorStoreSiloOptions> options,
    ILogger<MembershipWatcher> log) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stop = new();
    private int _running;
    private int _again;
    private Task _loops = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(MembershipWatcher), ServiceLifecycleStage.Active, Start, Stop);

    private Task Start(CancellationToken ct)
    {
        _loops = Task.WhenAll(Task.Run(WatchAsync), Task.Run(TickAsync));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Cancels the loops and gives them a moment. Orleans' membership update stream may not observe the token until
    /// the next membership change, so waiting for it would hold up every silo shutdown by the lifecycle's timeout.
    /// </summary>
    private async Task Stop(CancellationToken ct)
    {
        await _stop.CancelAsync();
        await ((Task)Task.WhenAny(_loops, Task.Delay(TimeSpan.FromSeconds(1), ct))).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task WatchAsync()
    {
        string last = "";
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(_stop.Token))
            {
                string active = string.Join(",", Active(snapshot).Order(StringComparer.Ordinal));
                if (active == last) continue;
                last = active;
                Trigger();
            }
        }
        catch (OperationCanceledException) { }
    }

    private async Task TickAsync()
    {
        try
        {
            using var timer = new PeriodicTimer(options.Value.ReconcileInterval);
            while (await timer.WaitForNextTickAsync(_stop.Token)) Trigger();
        }
        catch (OperationCanceledException) { }
    }

    private static IEnumerable<string> Active(ClusterMembershipSnapshot s) =>
        s.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress.ToParsableString());

    private void Trigger()
    {
        Interlocked.Exchange(ref _again, 1);
        if (Interlocked.CompareExchange(ref _running, 1, 0) != 0) return;
        _ = Task.Run(async () =>
        {
            try
            {
                while (Interlocked.Exchange(ref _again, 0) == 1 && !_stop.IsCancellationRequested) await PassAsync();
            }
            finally { Volatile.Write(ref _running, 0); }
        });
    }

    private async Task PassAsync()
    {
        var leader = SiloIdentity.Active(membership.CurrentSnapshot).Keys.Order(StringComparer.Ordinal).FirstOrDefault();
        if (leader != SiloIdentity.Of(local.Name, local.SiloAddress)) return;
        try
        {
            var keys = await grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key).ListAsync(null);
            await Task.WhenAll(keys.Select(async k =>
            {
                try { await grains.GetGrain<ILayoutGrain>(k).ReconcileAsync(); }
                catch (Exception e) { LogReconcileFailed(k, e.Message); }
            }));
        }
        catch (Exception e) { LogReconcileFailed("catalog", e.Message); }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciling {Key} failed: {Reason}")]
    private partial void LogReconcileFailed(string key, string reason);
}
