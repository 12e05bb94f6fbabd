using VectorStore.Drift;
using VectorStore.Indexing;
using VectorStore.Lifecycle;
using VectorStore.Storage;
using VectorStore.Telemetry;

namespace VectorStore.Collections;

/// <summary>
/// Drift sensors of the live generation, and the ladder of actions they drive when the policy enables it:
/// rebalance IVF lists → train a candidate with the live specs on the data as it now is → shadow canary → gated
/// promotion. Every step is noted in the drift report's actions and logged.
/// </summary>
public sealed partial class Collection
{
    /// <summary>Vectors observed between two readings of the sensors (each reading costs well under a millisecond).</summary>
    private const int DriftCheckInterval = 1000;

    private enum LadderStep
    {
        Idle,
        Rebalanced,
        Building,
        Canary,
    }

    private readonly object _ladderGate = new();
    private readonly List<string> _ladderActions = [];
    private LadderStep _ladder;
    private long _ladderAt;
    private int _ladderGeneration;
    private long _nextDriftCheck = DriftCheckInterval;
    private bool _driftLogged;

    /// <summary>Settings of the drift sensors of generations trained from now on (defaults: <see cref="DriftSettings"/>).</summary>
    internal DriftSettings DriftSettings { get; set; } = new();

    /// <summary>
    /// Training samples below this get no drift sensors: their two-sample test and baseline need a training set well
    /// above the test's size, and their kept state would outweigh a small collection's own vectors on disk.
    /// </summary>
    internal const int MinDriftSample = 8000;

    /// <summary>The live generation's drift monitor, if it has one (tests wait on its background tests).</summary>
    internal DriftMonitor? LiveDriftMonitor => Volatile.Read(ref _current).Drift;

    private void StartDriftMonitor(Generation g, VectorMatrix sample) => g.Drift = CreateDriftMonitor(g, g.Index!, sample);

    /// <summary>
    /// Sensors for <paramref name="g"/> baselined on <paramref name="sample"/> (<see cref="DriftSettingsFor"/>); notes the
    /// sample's size on <paramref name="g"/>, which the drift report gives as the reason when it is too small.
    /// </summary>
    private DriftMonitor? CreateDriftMonitor(Generation g, VectorIndex index, VectorMatrix sample)
    {
        g.DriftSample = sample.Count;
        return sample.Count < MinDriftSample ? null
            : DriftMonitor.Create(index, sample, Options.Metric.ToDistanceKind(), DriftSettingsFor(sample.Count), Options.Seed + g.Number);
    }

    /// <summary>Why <paramref name="live"/> has no drift sensors, or null when it has them.</summary>
    private static string? NoSensorsReason(Generation live) => live switch
    {
        { Drift: not null } => null,
        { Index: null } => $"no drift sensors: generation {live.Number} is not trained yet",
        { DriftSample: > 0 and var n } => $"no drift sensors: generation {live.Number} was trained on {n} vectors, fewer than {MinDriftSample}",
        // Read back from a snapshot, which keeps sensors but not the size of a sample too small for them.
        _ => $"no drift sensors: generation {live.Number} was trained on fewer than {MinDriftSample} vectors",
    };

    /// <summary>
    /// <see cref="DriftSettings"/> for a monitor baselined on a sample of <paramref name="sampleCount"/> vectors (at least
    /// <see cref="MinDriftSample"/>): the kept baseline and the reservoir of recent inserts are at most an eighth of it
    /// each. Both are resident and on disk, so in a small collection they must not outweigh the vectors themselves.
    /// </summary>
    private DriftSettings DriftSettingsFor(int sampleCount)
    {
        var s = DriftSettings;
        int cap = sampleCount / 8;
        return s with { BaselineSampleSize = Math.Min(s.BaselineSampleSize, cap), ReservoirSize = Math.Min(s.ReservoirSize, cap) };
    }

    /// <summary>
    /// <see cref="DriftSettings"/> for a monitor read back whose kept baseline sample has <paramref name="baselineRows"/>
    /// rows. Fewer than <see cref="DriftSettings.BaselineSampleSize"/> asks for means <see cref="DriftSettingsFor"/> capped
    /// it at an eighth of the monitor's training sample, and the reservoir with it: the same cap again, whatever the
    /// collection's size is now (the capacity itself is not stored).
    /// </summary>
    private DriftSettings RestoredDriftSettings(int baselineRows)
    {
        var s = DriftSettings;
        return baselineRows < s.BaselineSampleSize ? s with { ReservoirSize = Math.Clamp(baselineRows, 2, s.ReservoirSize) } : s;
    }

    /// <summary>
    /// A generation made live without sensors (restored from a snapshot, which keeps only the live generation's)
    /// gets them baselined on a sample of the data as it is now, outside the locks that searches and writes need.
    /// </summary>
    private void EnsureDriftMonitor(int generation)
    {
        VectorMatrix sample;
        Generation g;
        _lock.EnterReadLock();
        try
        {
            if (_closed || _current.Number != generation || _current.Drift is not null || _current.Index is null || _slots.Count < MinDriftSample) return;
            g = _current;
            sample = _builder.Sample(_slots.LiveSlots(), Options.Seed + g.Number);
        }
        finally { _lock.ExitReadLock(); }
        g.Drift ??= CreateDriftMonitor(g, g.Index, sample);
    }

    private void SwapDriftMonitor(Generation old, Generation now)
    {
        lock (_ladderGate)
        {
            _driftLogged = false;
            _nextDriftCheck = (now.Drift?.Observed ?? 0) + DriftCheckInterval;
            if (_ladder != LadderStep.Idle) NoteLadderLocked($"generation {now.Number} is live; the ladder starts over");
            _ladder = LadderStep.Idle;
        }
    }

    /// <summary>After a batch is applied (and durable): feeds the live generation's sensors and, now and then, reads them.</summary>
    private void ObserveDrift(VectorMatrix batch)
    {
        var live = _current;
        if (live.Drift is not { } monitor) return;
        monitor.Observe(batch);
        if (monitor.Observed < Volatile.Read(ref _nextDriftCheck)) return;
        lock (_ladderGate)
        {
            if (monitor.Observed < _nextDriftCheck) return;
            _nextDriftCheck = monitor.Observed + DriftCheckInterval;
        }
        try { OnDriftReading(live, monitor.Report(live.Number)); }
        catch (Exception e) when (e is VectorStoreException or ObjectDisposedException)
        {
            // The ladder is advisory: a step that cannot run now (collection closing, too many generations) is
            // retried at the next reading.
        }
    }

    private void OnDriftReading(Generation live, DriftReport report)
    {
        if (!report.Drifted) return;
        var policy = Policy;
        string signals = string.Join(", ", report.Signals.Where(s => s.Fired).Select(s => $"{s.Name} {s.Value:G4} >= {s.Threshold:G4}"));
        LadderStep step;
        lock (_ladderGate)
        {
            step = _ladder;
            if (!_driftLogged)
            {
                _driftLogged = true;
                NoteLadderLocked($"drift on generation {live.Number} after {report.Observed} vectors: {signals}");
                Log.DriftDetected(Instruments.Logger, Name, live.Number, signals, step.ToString());
                Instruments.DriftCounter.Add(1, Instruments.CollectionTags(Name));
            }
            // Give each step a full check interval of new data before judging it.
            if (step != LadderStep.Idle && live.Drift!.Observed < _ladderAt + DriftCheckInterval) return;
        }
        if (step == LadderStep.Idle && policy.RebalanceOnDrift && _index is IRebalancingIndex)
        {
            string? summary = Rebalance(force: true);
            Advance(LadderStep.Rebalanced, live, $"rebalanced the index of generation {live.Number}: {summary ?? "nothing to move"}");
            return;
        }
        if (step is LadderStep.Idle or LadderStep.Rebalanced && policy.BuildCandidateOnDrift)
        {
            int? pending = PendingRetraining(live);
            int g = pending ?? Declare(live.Compression.ToString(), live.IndexSpec.ToString(), null, 0, askedByName: false);
            lock (_ladderGate) _ladderGeneration = g;
            Advance(LadderStep.Building, live, pending is null
                ? $"training candidate generation {g} ({live.Compression}, {live.IndexSpec}) on the data as it now is"
                : $"candidate generation {g} ({live.Compression}, {live.IndexSpec}) is already declared; judging it instead of training another");
            var built = FindOrNull(g);
            built?.Build.ContinueWith(_ => StartLadderCanary(g), TaskScheduler.Default);
        }
    }

    /// <summary>
    /// The newest candidate that retrains the live scheme, was never live and is still being built: declared before a
    /// restart by the ladder (whose step is not persisted) or by a user; null when there is none. The ladder judges it
    /// rather than training another: after each `kill -9` during a drift-triggered build, the restarted ladder declared
    /// one more candidate beside the one being rebuilt. A built candidate is never adopted: it may be one the gate
    /// already refused, which the ladder would otherwise judge again at every restart instead of training on the data
    /// as it now is.
    /// </summary>
    private int? PendingRetraining(Generation live)
    {
        _lock.EnterReadLock();
        try
        {
            return _generations.LastOrDefault(g => g != live && g.State == GenerationState.Candidate && g.RetiredOrder == 0 && g.Error is null && !g.Ready
                && !g.GivenSample && g.Compression.ToString() == live.Compression.ToString() && g.IndexSpec.ToString() == live.IndexSpec.ToString())?.Number;
        }
        finally { _lock.ExitReadLock(); }
    }

    private void StartLadderCanary(int generation)
    {
        var g = FindOrNull(generation);
        if (g is null || !g.Ready) return;
        try
        {
            StartCanary(new CanarySettings { Generation = generation, SampleRate = Policy.CanaryRate });
            Advance(LadderStep.Canary, _current, $"candidate generation {generation} is built; shadow canary at {Policy.CanaryRate:P1} of queries");
        }
        catch (Exception e) when (e is VectorStoreException or ObjectDisposedException) { }
    }

    /// <summary>The ladder's last step: promotes its candidate once the canary passes the gate.</summary>
    private void LadderAfterCanary(Generation candidate)
    {
        var policy = Policy;
        lock (_ladderGate)
            if (_ladder != LadderStep.Canary || candidate.Number != _ladderGeneration || !policy.PromoteWhenGatePasses) return;
        var report = candidate.Canary.Report(candidate.Number, _current.Number);
        if (policy.Gate.Check(report) is not null) return;
        try
        {
            Promote(candidate.Number, policy.Gate);
            StopCanary();
            NoteLadder($"promoted generation {candidate.Number}: canary recall {report.RecallCandidate:F4} vs live {report.RecallLive:F4}, p99 {report.CandidateP99Ms:F2} vs {report.LiveP99Ms:F2} ms over {report.ExactQueries} exact queries");
        }
        catch (Exception e) when (e is VectorStoreException or ObjectDisposedException) { }
    }

    private Generation? FindOrNull(int generation)
    {
        _lock.EnterReadLock();
        try { return _generations.Find(g => g.Number == generation); }
        finally { _lock.ExitReadLock(); }
    }

    private void Advance(LadderStep step, Generation live, string action)
    {
        lock (_ladderGate)
        {
            _ladder = step;
            _ladderAt = live.Drift?.Observed ?? 0;
            NoteLadderLocked(action);
        }
    }

    private void NoteLadder(string action)
    {
        lock (_ladderGate) NoteLadderLocked(action);
    }

    private void NoteLadderLocked(string action)
    {
        if (_ladderActions.Count >= 256) _ladderActions.RemoveAt(0);
        _ladderActions.Add($"{DateTimeOffset.UtcNow:O} {action}");
    }

    /// <summary>The drift sensors of the live generation, with what the ladder did so far.</summary>
    public DriftReport Drift()
    {
        Generation live;
        _lock.EnterReadLock();
        try
        {
            ThrowIfClosed();
            live = _current;
        }
        finally { _lock.ExitReadLock(); }
        var report = live.Drift?.Report(live.Number) ?? new DriftReport { Generation = live.Number, Sensors = false, NoSensorsReason = NoSensorsReason(live) };
        lock (_ladderGate) return report with { Actions = _ladderActions.ToArray() };
    }
}
