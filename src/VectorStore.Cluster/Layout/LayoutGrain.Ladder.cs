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

    private LadderStep _ladder;
    private int _ladderGeneration;
    private int _ladderRunning;
    private readonly List<string> _ladderActions = [];

    public Task<string[]> LadderActionsAsync() => Task.FromResult(_ladderActions.ToArray());

    /// <summary>Starts one ladder check unless one is running (a build can take minutes; reconcile never waits for it).</summary>
    private void CheckLadder()
    {
        if (Current?.Policy is null || Interlocked.CompareExchange(ref _ladderRunning, 1, 0) != 0) return;
        // Not awaited: it runs on this activation's scheduler, interleaved with other calls (the grain is reentrant).
        _ = RunLadderAsync();
    }

    private async Task RunLadderAsync()
    {
        try { await LadderStepAsync(); }
        catch (Exception e) { LogLadderFailed(e, this.GetPrimaryKeyString()); }
        finally { Volatile.Write(ref _ladderRunning, 0); }
    }

    private async Task LadderStepAsync()
    {
        var layout = Current;
        if (layout is null) return;
        var policy = Policy(layout);
        if (!policy.BuildCandidateOnDrift) return;
        var live = layout.AllGenerations().First(g => g.Kind == GenerationState.Live);
        switch (_ladder)
        {
            case LadderStep.Idle or LadderStep.DriftSeen:
            {
                var reports = await Task.WhenAll(layout.Shards.Select(p => Replica(layout, p.Shard, p.Primary).DriftJsonAsync()));
                var fired = reports.Select((j, s) => (s, JsonSerializer.Deserialize<DriftReport>(j, ShardReplicaGrain.LifecycleJson)!))
                    .Where(t => t.Item2.Drifted).ToArray();
                if (fired.Length == 0)
                {
                    _ladder = LadderStep.Idle;
                    return;
                }
                if (_ladder == LadderStep.Idle)
                {
                    string signals = string.Join("; ", fired.Select(f => $"shard {f.s}: " + string.Join(", ", f.Item2.Signals.Where(x => x.Fired).Select(x => $"{x.Name} {x.Value:G4} >= {x.Threshold:G4}"))));
                    Note($"drift on generation {live.Number}: {signals}");
                    if (policy.RebalanceOnDrift)
                    {
                        // Each shard's own ladder rebalances its lists in place; build only if drift outlasts that.
                        _ladder = LadderStep.DriftSeen;
                        Note("the shards rebalance their lists first; a candidate is built if drift is still there at the next check");
                        return;
                    }
                }
                int number = await DeclareGenerationAsync(live.Compression, live.Index);
                _ladder = LadderStep.Building;
                _ladderGeneration = number;
                Note($"training candidate generation {number} ({live.Compression}, {live.Index}) on a fresh shared sample of the data as it now is");
                if (await BuildGenerationAsync(number) is { } failed)
                {
                    Note($"building generation {number} failed: {failed}");
                    _ladder = LadderStep.Idle;
                    return;
                }
                string settings = JsonSerializer.Serialize(new CanarySettings { Generation = number, SampleRate = policy.CanaryRate }, ShardReplicaGrain.LifecycleJson);
                await ForEachCopyAsync(Current!, c => c.StartCanaryAsync(settings), "starting the ladder's canary");
                _ladder = LadderStep.Canary;
                Note($"candidate generation {number} is built; shadow canary at {policy.CanaryRate:P1} of queries on every copy");
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
                if (!policy.PromoteWhenGatePasses) return;
                var copies = InSyncCopies(layout);
                var infos = await Task.WhenAll(copies.Select(c => GenerationsOf(c.Grain)));
                var canary = GenerationAggregate.Canary(copies.Select((c, i) => (c.Shard, infos[i].FirstOrDefault(x => x.Generation == _ladderGeneration)?.Canary)), _ladderGeneration, live.Number);
                if (canary is null || policy.Gate.Check(canary) is not null) return;
                await SetLiveAsync(_ladderGeneration, rollback: false, JsonSerializer.Serialize(policy.Gate, ShardReplicaGrain.LifecycleJson));
                await ForEachCopyAsync(Current!, c => c.StopCanaryAsync(), "stopping the ladder's canary");
                Note($"promoted generation {_ladderGeneration}: canary recall {canary.RecallCandidate:F4} vs live {canary.RecallLive:F4}, p99 {canary.CandidateP99Ms:F2} vs {canary.LiveP99Ms:F2} ms over {canary.ExactQueries} exact queries per shard");
                _ladder = LadderStep.Idle;
                return;
            }
        }
    }

    private void Note(string action)
    {
        if (_ladderActions.Count >= 256) _ladderActions.RemoveAt(0);
        _ladderActions.Add($"{DateTimeOffset.UtcNow:O} cluster: {action}");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drift ladder step of {Collection} failed; the next check retries")]
    private partial void LogLadderFailed(Exception e, string collection);
}
