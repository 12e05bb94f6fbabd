using System.Text.Json;
using Microsoft.Extensions.Logging;
using VectorStore.Cluster.Shards;
using VectorStore.Lifecycle;

namespace VectorStore.Cluster.Layout;

/// <summary>
/// The drift ladder of a distributed collection, run by its layout grain so the whole collection acts once, with one
/// shared sample and the collection-wide figures (a shard's own ladder would train its own codec): when a shard's
/// drift sensors fire, a candidate with the live specs is built on every copy from a fresh shared sample, the shadow
/// canary runs on every copy, and once the combined canary passes the gate the candidate is promoted everywhere. With
/// <see cref="LifecyclePolicy.RebalanceOnDrift"/> each shard first rebalances its own lists (in place, same codec),
/// and the ladder builds only if drift is still there at the next check. Each check is one pass of the periodic
/// reconcile; the ladder's state is in memory (a re-activated layout grain starts it over) and its steps are listed
/// in the drift report's actions as <c>cluster: …</c>.
/// </summary>
internal sealed partial class LayoutGrain
{
    private enum LadderStep
    {
        Idle,
        DriftSeen,
        Building,
        Canary,
    }

    /// <summary>New vectors (over all shards, per shard) between seeing drift and judging whether it outlasted rebalancing.</summary>
    private const long RebalanceObservation = 1000;

    private LadderStep _ladder;
    private int _ladderGeneration;
    private int _ladderRunning;
    private long _driftSeenObserved;
    private DateTime _ladderIdleUntil;
    private readonly CancellationTokenSource _ladderStop = new();
    private readonly List<string> _ladderActions = [];

    public Task<string[]> LadderActionsAsync() => Task.FromResult(_ladderActions.ToArray());

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // A step still running must not stage or switch anything for an activation that is gone (a new one starts over).
        _ladderStop.Cancel();
        return Task.CompletedTask;
    }

    /// <summary>Starts one ladder check unless one is running (a build can take minutes; reconcile never waits for it).</summary>
    private void CheckLadder()
    {
        if (Current?.Policy is null || _ladderStop.IsCancellationRequested || Interlocked.CompareExchange(ref _ladderRunning, 1, 0) != 0) return;
        // Not awaited: it runs on this activation's scheduler, interleaved with other calls (the grain is reentrant).
        _ = RunLadderAsync();
    }

    private async Task RunLadderAsync()
    {
        try { await LadderStepAsync(_ladderStop.Token); }
        catch (OperationCanceledException) { }
        catch (Exception e)
        {
            LogLadderFailed(e, this.GetPrimaryKeyString());
            // A step cut short by a failure is judged again from the start at the next check.
            if (_ladder is LadderStep.Building) _ladder = LadderStep.Idle;
        }
        finally { Volatile.Write(ref _ladderRunning, 0); }
    }

    private async Task LadderStepAsync(CancellationToken stop)
    {
        var layout = Current;
        if (layout is null || DateTime.UtcNow < _ladderIdleUntil) return;
        var policy = layout.ReadPolicy();
        if (!policy.BuildCandidateOnDrift) return;
        var live = layout.Live();
        switch (_ladder)
        {
            case LadderStep.Idle or LadderStep.DriftSeen:
            {
                var reports = (await Task.WhenAll(layout.Shards.Select(p => Replica(layout, p.Shard, p.Primary).DriftJsonAsync())))
                    .Select(j => JsonSerializer.Deserialize<DriftReport>(j, ShardReplicaGrain.LifecycleJson)!).ToArray();
                var fired = reports.Select((r, s) => (Shard: s, Report: r)).Where(t => t.Report.Drifted).ToArray();
                long observed = reports.Sum(r => r.Observed);
                if (fired.Length == 0)
                {
                    _ladder = LadderStep.Idle;
                    return;
                }
                if (_ladder == LadderStep.Idle)
                {
                    string signals = string.Join("; ", fired.Select(f => $"shard {f.Shard}: " + string.Join(", ", f.Report.Signals.Where(x => x.Fired).Select(x => $"{x.Name} {x.Value:G4} >= {x.Threshold:G4}"))));
                    Note($"drift on generation {live.Number}: {signals}");
                    if (policy.RebalanceOnDrift)
                    {
                        // Each shard's own ladder rebalances its lists in place; build only if drift outlasts that, judged
                        // on new data (as one node gives each step a check interval of new vectors).
                        _ladder = LadderStep.DriftSeen;
                        _driftSeenObserved = observed;
                        Note("the shards rebalance their lists first; a candidate is built if drift is still there after more data");
                        return;
                    }
                }
                else if (observed < _driftSeenObserved + RebalanceObservation * layout.Shards.Length) return;
                stop.ThrowIfCancellationRequested();
                await StartLadderCandidateAsync(layout, live, policy, stop);
                return;
            }
            case LadderStep.Canary:
            {
                if (layout.AllGenerations().FirstOrDefault(g => g.Number == _ladderGeneration) is not { Kind: GenerationState.Candidate })
                {
                    // Promoted, dropped or rolled back by hand meanwhile: the ladder starts over.
                    _ladder = LadderStep.Idle;
                    return;
                }
                var copies = InSyncCopies(layout);
                var infos = await Task.WhenAll(copies.Select(c => GenerationsOfOrEmpty(c.Grain)));
                var figures = copies.Select((c, i) => (c.Shard, c.Grain, infos[i].FirstOrDefault(x => x.Generation == _ladderGeneration)?.Canary)).ToArray();
                // A copy without figures (restarted, or new since the canary started) is canaried again; the gate
                // judges every shard, so the promotion waits for it.
                string settings = CanarySettingsJson(_ladderGeneration, policy);
                foreach (var (_, grain, _) in figures.Where(f => f.Canary is null))
                    try { await grain.StartCanaryAsync(settings); }
                    catch (Exception e) { LogLifecycleCallFailed(grain.GetPrimaryKeyString(), "restarting the ladder's canary", e.Message); }
                if (!policy.PromoteWhenGatePasses) return;
                var canary = GenerationAggregate.Canary(figures.Select(f => (f.Shard, f.Canary)), _ladderGeneration, live.Number);
                if (canary is null || policy.Gate.Check(canary) is not null) return;
                stop.ThrowIfCancellationRequested();
                await SetLiveAsync(_ladderGeneration, rollback: false, JsonSerializer.Serialize(policy.Gate, ShardReplicaGrain.LifecycleJson));
                await ForEachCopyAsync(Current!, c => c.StopCanaryAsync(), "stopping the ladder's canary");
                Note($"promoted generation {_ladderGeneration}: canary recall {canary.RecallCandidate:F4} vs live {canary.RecallLive:F4}, p99 {canary.CandidateP99Ms:F2} vs {canary.LiveP99Ms:F2} ms over {canary.ExactQueries} exact queries per shard");
                _ladder = LadderStep.Idle;
                return;
            }
        }
    }

    /// <summary>
    /// The ladder's candidate: one with the live specs that the layout already holds ready everywhere (a previous
    /// activation's) is canaried instead of building another; one not ready is dropped; else a new one is built. A
    /// build that fails is dropped and the ladder waits a while before it tries again, so it never fills the slots.
    /// </summary>
    private async Task StartLadderCandidateAsync(ClusterLayout layout, ClusterGeneration live, LifecyclePolicy policy, CancellationToken stop)
    {
        int number;
        var earlier = layout.AllGenerations().Where(g => g.Kind == GenerationState.Candidate && g.Compression == live.Compression && g.Index == live.Index)
            .MaxBy(g => g.Number);
        if (earlier is not null && await ReadyEverywhereAsync(layout, earlier.Number))
        {
            number = earlier.Number;
            Note($"candidate generation {number} ({live.Compression}, {live.Index}) is already built; it is canaried instead of a new one");
        }
        else
        {
            if (earlier is not null && !_building.Contains(earlier.Number)) await DropIfCandidateAsync(earlier.Number);
            stop.ThrowIfCancellationRequested();
            number = await DeclareGenerationAsync(live.Compression, live.Index);
            _ladder = LadderStep.Building;
            _ladderGeneration = number;
            Note($"training candidate generation {number} ({live.Compression}, {live.Index}) on a fresh shared sample of the data as it now is");
            if (await BuildGenerationAsync(number) is { } failed)
            {
                await DropIfCandidateAsync(number);
                Note($"building generation {number} failed ({failed}); dropped, and the ladder waits {LadderBackoff.TotalMinutes:0} min");
                _ladder = LadderStep.Idle;
                _ladderIdleUntil = DateTime.UtcNow + LadderBackoff;
                return;
            }
        }
        stop.ThrowIfCancellationRequested();
        _ladderGeneration = number;
        string settings = CanarySettingsJson(number, policy);
        await ForEachCopyAsync(Current!, c => c.StartCanaryAsync(settings), "starting the ladder's canary");
        _ladder = LadderStep.Canary;
        Note($"candidate generation {number} is built; shadow canary at {policy.CanaryRate:P1} of queries on every copy");
    }

    /// <summary>The ladder's canary of <paramref name="number"/> at the policy's rate, as a copy takes it.</summary>
    private static string CanarySettingsJson(int number, LifecyclePolicy policy) =>
        JsonSerializer.Serialize(new CanarySettings { Generation = number, SampleRate = policy.CanaryRate }, ShardReplicaGrain.LifecycleJson);

    /// <summary>How long the ladder waits after a failed build before it tries again.</summary>
    private static readonly TimeSpan LadderBackoff = TimeSpan.FromMinutes(5);

    /// <summary>Whether every in-sync copy holds generation <paramref name="number"/> ready.</summary>
    private async Task<bool> ReadyEverywhereAsync(ClusterLayout layout, int number)
    {
        var infos = await Task.WhenAll(InSyncCopies(layout).Select(c => GenerationsOfOrEmpty(c.Grain)));
        return infos.All(copy => copy.Any(x => x.Generation == number && x.Ready));
    }

    private async Task DropIfCandidateAsync(int number)
    {
        await _gate.WaitAsync();
        try
        {
            var layout = Existing();
            if (layout.AllGenerations().Any(g => g.Number == number && g.Kind == GenerationState.Candidate)) await DropFromLayoutAsync(layout, [number]);
        }
        finally { _gate.Release(); }
    }

    private void Note(string action)
    {
        if (_ladderActions.Count >= 256) _ladderActions.RemoveAt(0);
        _ladderActions.Add($"{DateTimeOffset.UtcNow:O} cluster: {action}");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drift ladder step of {Collection} failed; the next check retries")]
    private partial void LogLadderFailed(Exception e, string collection);
}
