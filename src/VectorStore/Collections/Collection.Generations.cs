using VectorStore.Indexing;
using VectorStore.Lifecycle;
using VectorStore.Quantization;
using VectorStore.Storage;
using VectorStore.Telemetry;

namespace VectorStore.Collections;

/// <summary>
/// Compression generations: a candidate is declared (logged), built in the background from the stored
/// full-precision vectors while writes go on (writes during the build are noted and replayed into it before it is
/// attached; from then on every write reaches it), checkpointed, and made live by one logged record — promote or
/// rollback — so a crash at any point leaves exactly one live generation.
/// </summary>
public sealed partial class Collection
{
    /// <summary>Non-live generations kept at most (candidates and retired): each holds an index in memory.</summary>
    internal const int MaxOtherGenerations = 8;

    private LifecyclePolicy _policy = new();
    private long _retiredOrder;

    /// <summary>The live generation's number read without the lock (a reference read; may be a switch behind or ahead).</summary>
    internal int LiveGenerationUnlocked => Volatile.Read(ref _current).Number;

    /// <summary>The generation that answers queries.</summary>
    public int LiveGeneration
    {
        get
        {
            _lock.EnterReadLock();
            try { return _current.Number; }
            finally { _lock.ExitReadLock(); }
        }
    }

    /// <summary>
    /// What the collection does by itself about drift and generations. Setting it is a logged, durable change (it
    /// survives restarts); reading it is lock-free.
    /// </summary>
    public LifecyclePolicy Policy
    {
        get => Volatile.Read(ref _policy);
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            value.Validate();
            _journal.CheckWritable("setting the lifecycle policy");
            long ticket;
            _lock.EnterWriteLock();
            try
            {
                ThrowIfClosed();
                RecoverFromJournalFailureLocked();
                ticket = _journal.AppendGeneration(new GenerationRecord(GenerationOp.Policy, _current.Number, null, null, false) { Policy = PolicyCodec.Encode(value) });
                Volatile.Write(ref _policy, value);
            }
            finally { _lock.ExitWriteLock(); }
            WaitDurable(ticket);
        }
    }

    /// <summary>Every generation, oldest first.</summary>
    public IReadOnlyList<GenerationInfo> Generations()
    {
        _lock.EnterReadLock();
        try
        {
            ThrowIfClosed();
            var exposure = _exposure;
            return _generations.Select(g => g.Info(exposure?.Generation == g ? exposure.Percent : 0, _current)).ToArray();
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>
    /// Declares a candidate generation with <paramref name="compression"/> and <paramref name="index"/> and starts
    /// building it in the background (see <see cref="WaitForGeneration"/>). Returns its number. The specs are
    /// validated like <see cref="CollectionOptions"/>; the collection needs at least one vector.
    /// </summary>
    public int BuildGeneration(string compression, string index) => Declare(compression, index, null, 0, askedByName: true);

    /// <summary>
    /// Declares candidate generation <paramref name="number"/> trained on <paramref name="trainingSample"/> instead of a
    /// sample of this collection's vectors, and starts building it in the background. Collections given the same
    /// sample, specs, number and seed train the same codec, so their scores compare (the cluster's shards use this).
    /// The number must not name a generation the collection holds (a dropped one's may be given again). The sample is
    /// copied (normalized for cosine, as stored vectors are) and not persisted: if the collection closes or crashes
    /// before a snapshot holds the built index, the generation comes back failed — or absent, when a snapshot taken
    /// during the build left it out — for the caller to build again; and if no snapshot can be written after the
    /// build, it fails (the reason in its error).
    /// </summary>
    public int BuildGeneration(string compression, string index, VectorMatrix trainingSample, int number)
    {
        ArgumentNullException.ThrowIfNull(trainingSample);
        if (trainingSample.Dimension != Options.Dimension)
            throw new InvalidArgumentException($"training sample has {trainingSample.Dimension} dimensions, collection '{Name}' {Options.Dimension}");
        if (trainingSample.Count == 0) throw new InvalidArgumentException("training sample is empty");
        if (number <= 0) throw new InvalidArgumentException($"generation number must be positive, got {number}");
        // The copy, checks and cosine normalization a stored batch gets; its rows stand in for ids in the messages.
        var rows = Enumerable.Range(0, trainingSample.Count).Select(r => (ulong)r).ToArray();
        return Declare(compression, index, UpsertBatchPreparation.Prepare(rows, trainingSample, null, Options.Metric), number, askedByName: false);
    }

    /// <summary>
    /// Declares a candidate and starts its build. <paramref name="askedByName"/>: a user asked for these specs on this
    /// collection's own vectors, so a sample too small for them is refused (CheckTrainingSample). The drift ladder's
    /// retraining of the live specs, and a caller that gives its own sample (a cluster, which draws one sample for every
    /// shard), are not: they train what they can, as the live generation did.
    /// </summary>
    private int Declare(string compression, string index, VectorMatrix? sample, int number, bool askedByName)
    {
        var (c, i) = (Options with { Compression = compression, Index = index }).Validate();
        _journal.CheckWritable("building a compression generation");
        Generation g;
        long ticket;
        _lock.EnterWriteLock();
        try
        {
            ThrowIfClosed();
            if (_slots.Count == 0) throw new InvalidArgumentException($"collection '{Name}' has no vectors to train a generation on");
            if (askedByName) CollectionOptionsValidation.CheckTrainingSample(i, _slots.Count, Options.MaxTrainingSample, Name);
            if (_generations.Count - 1 >= MaxOtherGenerations)
                throw new InvalidArgumentException($"collection '{Name}' already keeps {MaxOtherGenerations} generations beside the live one: promote, roll back or gc first");
            if (sample is not null && _generations.Any(x => x.Number == number))
                throw new InvalidArgumentException($"collection '{Name}' already has a generation {number}");
            g = new Generation(sample is null ? _lastGeneration + 1 : number, c, i, GenerationState.Candidate) { TrainingSample = sample, GivenSample = sample is not null };
            RecoverFromJournalFailureLocked();
            ticket = _journal.AppendGeneration(new GenerationRecord(GenerationOp.Declare, g.Number, c.ToString(), i.ToString(), false) { GivenSample = g.GivenSample });
            _lastGeneration = Math.Max(_lastGeneration, g.Number);
            _generations.Add(g);
        }
        finally { _lock.ExitWriteLock(); }
        try { WaitDurable(ticket); }
        catch
        {
            // Not declared durably, so never built: failed (gc drops it), not a candidate waiting for a build.
            g.Error = "its declaration did not reach the log; drop it and build it again";
            g.TrainingSample = null;
            throw;
        }
        StartBuild(g);
        return g.Number;
    }

    /// <summary>Waits until generation <paramref name="generation"/> is built; throws why its build failed.</summary>
    public async Task WaitForGeneration(int generation, CancellationToken cancellationToken = default)
    {
        var g = Find(generation);
        await g.Build.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (g.Error is { } error) throw new InvalidArgumentException($"building generation {generation} of '{Name}' failed: {error}");
        if (!g.Ready) throw new InvalidArgumentException($"generation {generation} of '{Name}' was dropped or its collection closed before it was built");
    }

    private Generation Find(int generation)
    {
        _lock.EnterReadLock();
        try
        {
            ThrowIfClosed();
            return FindLocked(generation);
        }
        finally { _lock.ExitReadLock(); }
    }

    private Generation FindLocked(int generation) =>
        _generations.Find(g => g.Number == generation)
        ?? throw new InvalidArgumentException($"collection '{Name}' has no generation {generation} (generations: {string.Join(", ", _generations.Select(g => g.Number))})");

    private void StartBuild(Generation g) =>
        g.Build = Task.Run(() =>
        {
            try { BuildNow(g, checkpoint: true); }
            catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
            {
                // The collection closed or the generation was dropped: a declared generation is rebuilt after reopening.
            }
            catch (Exception e)
            {
                g.Error = e.Message;
                g.TrainingSample = null;
                Log.GenerationBuildFailed(Instruments.Logger, e, Name, g.Number);
            }
        });

    /// <summary>
    /// Trains <paramref name="g"/> on a sample of the current vectors, encodes every live vector a chunk at a time
    /// (each chunk copied under the read lock, encoded with none), then replays what was written meanwhile and
    /// attaches it under the upgradeable lock (writers wait for the last few replays only), then checkpoints.
    /// </summary>
    private void BuildNow(Generation g, bool checkpoint)
    {
        var cancel = g.Cancel.Token;
        int[] slots;
        VectorMatrix sample;
        int highWater;
        _lock.EnterReadLock();
        try
        {
            ThrowIfClosed();
            slots = _slots.LiveSlots();
            highWater = _slots.HighWater;
            if (slots.Length == 0) throw new InvalidArgumentException("the collection has no vectors to train on");
            // Seeded by the generation number: a rebuild after a crash trains the same codec.
            sample = g.TrainingSample ?? _builder.Sample(slots, Options.Seed + g.Number);
            // Writers note slots from now on (a read lock excludes them, so none is missed in between).
            g.Pending = [];
        }
        finally { _lock.ExitReadLock(); }
        var (index, refine) = _builder.TrainEmpty(g.Compression, g.IndexSpec, sample, highWater);
        // Its sensors' baseline is its own training sample, ready for when it becomes live.
        g.Drift = CreateDriftMonitor(g, index, sample);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        long done = 0;
        for (int at = 0; at < slots.Length; at += IndexBuilder.Chunk)
        {
            cancel.ThrowIfCancellationRequested();
            var chunk = slots.AsSpan(at, Math.Min(IndexBuilder.Chunk, slots.Length - at)).ToArray();
            AddChunk(index, refine, chunk, locked: false);
            done += chunk.Length;
            g.Progress = 0.99 * done / slots.Length;
            Throttle(done, clock);
        }
        // Replay what writers changed meanwhile, while they continue, until little is left.
        for (int round = 0; round < 16; round++)
        {
            HashSet<int> batch;
            _lock.EnterWriteLock();
            try
            {
                ThrowIfClosed();
                batch = g.Pending!;
                g.Pending = [];
            }
            finally { _lock.ExitWriteLock(); }
            ReplayPending(index, refine, batch, locked: false);
            if (batch.Count < 256) break;
        }
        _lock.EnterUpgradeableReadLock();
        try
        {
            ThrowIfClosed();
            cancel.ThrowIfCancellationRequested();
            ReplayPending(index, refine, g.Pending!, locked: true);
            _lock.EnterWriteLock();
            try
            {
                if (!_generations.Contains(g)) throw new OperationCanceledException();
                g.Index = index;
                g.Refine = refine;
                g.Pending = null;
                g.Attached = true;
                g.Progress = 1;
                if (g != _current) _attached = [.. _attached, g];
            }
            finally { _lock.ExitWriteLock(); }
        }
        finally { _lock.ExitUpgradeableReadLock(); }
        // The built index reaches a snapshot, so a restart does not rebuild it; if this fails the log still names
        // the generation and recovery rebuilds it. Never during recovery: a snapshot mid-replay would claim records
        // not yet applied.
        g.TrainingSample = null;
        if (!checkpoint) return;
        try
        {
            _journal.Checkpoint();
            g.Saved = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or VectorStoreException)
        {
            Log.GenerationBuildFailed(Instruments.Logger, e, Name, g.Number);
            // Recovery could not rebuild it (its sample is gone), so it must not become live unsaved.
            if (g.GivenSample) g.Error = $"no snapshot could hold its index ({e.Message}); drop it and build it again";
        }
    }

    private void Throttle(long done, System.Diagnostics.Stopwatch clock)
    {
        int rate = Policy.BuildVectorsPerSecond;
        if (rate <= 0) return;
        double ahead = done / (double)rate - clock.Elapsed.TotalSeconds;
        if (ahead > 0) Thread.Sleep(TimeSpan.FromSeconds(Math.Min(ahead, 1)));
    }

    /// <summary>
    /// Called by writers under the write lock with the slots they changed: a running build must replay them, and the
    /// live index file no longer holds their entries.
    /// </summary>
    private void NotePending(ReadOnlySpan<int> slots)
    {
        foreach (int s in slots)
        {
            NoteIndexFileChange(s);
            NoteSlotChange(s);
        }
        foreach (var g in _generations)
            if (g.Pending is { } pending)
                foreach (int s in slots) pending.Add(s);
    }

    /// <summary>
    /// Makes ready generation <paramref name="generation"/> live: one logged record, durable before this returns.
    /// The live one is retired and stays current for a rollback; retired generations beyond
    /// <see cref="LifecyclePolicy.RetainRetired"/> are dropped. With <paramref name="gate"/> the live-traffic
    /// canary must pass it.
    /// </summary>
    public void Promote(int generation, PromotionGate? gate = null)
    {
        gate?.Validate();
        SwitchLive(rollback: false, "promoting a compression generation", () =>
        {
            var g = FindLocked(generation);
            if (g == _current) throw new InvalidArgumentException($"generation {generation} of '{Name}' is already live");
            if (!g.Ready)
                throw new InvalidArgumentException(g.Error is { } e
                    ? $"generation {generation} of '{Name}' failed to build: {e}"
                    : $"generation {generation} of '{Name}' is not ready (built {g.Progress:P0})");
            if (gate is not null && gate.Check(g.Canary.Report(g.Number, _current.Number)) is { } refused)
                throw new InvalidArgumentException($"promotion of generation {generation} refused by the gate: {refused}");
            return g;
        });
        DropBeyondRetention();
    }

    /// <summary>Makes the most recently retired generation live again (no retraining: it was kept current); returns its number.</summary>
    public int Rollback() =>
        SwitchLive(rollback: true, "rolling back a compression generation", () =>
            _generations.Where(g => g.State == GenerationState.Retired && g.Ready).MaxBy(g => g.RetiredOrder)
            ?? throw new InvalidArgumentException(_generations.Any(g => g.State == GenerationState.Retired)
                ? $"collection '{Name}' has no retired generation to roll back to that holds an index (a generation retired before it was trained cannot serve)"
                : $"collection '{Name}' has no retired generation to roll back to"));

    /// <summary>
    /// The one path of a switch: under the write lock <paramref name="choose"/> picks (or refuses) the target, the
    /// set-live record is appended and the swap made; outside it the record is made durable, then logged and counted.
    /// </summary>
    private int SwitchLive(bool rollback, string operation, Func<Generation> choose)
    {
        _journal.CheckWritable(operation);
        long ticket;
        Generation target;
        (double, int, int, int)[] tuned;
        _lock.EnterWriteLock();
        try
        {
            ThrowIfClosed();
            target = choose();
            RecoverFromJournalFailureLocked();
            ticket = _journal.AppendGeneration(new GenerationRecord(GenerationOp.SetLive, target.Number, null, null, rollback));
            tuned = _current.TunedSearches.Keys.ToArray();
            SwapLiveLocked(target, rollback);
        }
        finally { _lock.ExitWriteLock(); }
        WaitDurable(ticket);
        // The targets searches asked of the generation it replaced, tuned for this one before they ask again.
        RetuneInBackground(target, tuned);
        Log.GenerationPromoted(Instruments.Logger, Name, target.Number, rollback);
        Instruments.SwitchCounter.Add(1, Instruments.CollectionTags(Name));
        EnsureDriftMonitor(target.Number);
        return target.Number;
    }

    /// <summary>
    /// Under the write lock: <paramref name="g"/> answers queries from now on; the previous live generation is retired
    /// (promote) or becomes a candidate again (rollback), and keeps receiving writes when it has an index.
    /// </summary>
    private void SwapLiveLocked(Generation g, bool rollback)
    {
        var old = _current;
        old.State = rollback ? GenerationState.Candidate : GenerationState.Retired;
        // A rolled-back generation is stamped too: a candidate with an order left the live state, and gc keeps only the
        // most recent of those (CollectGenerations). Rollback itself picks among retired generations only.
        old.RetiredOrder = ++_retiredOrder;
        g.State = GenerationState.Live;
        g.LiveCanary = new CanaryRecorder(0);
        _current = g;
        var others = _attached.Where(a => a != g).ToList();
        if (old.Index is not null) others.Add(old);
        _attached = [.. others];
        Options = Options with { Compression = g.Compression.ToString(), Index = g.IndexSpec.ToString() };
        if (_exposure?.Generation == g) _exposure = null;
        TrainingError = null;
        _retrainAt = 0;
        _search.InvalidateFilters();
        SwapDriftMonitor(old, g);
    }

    /// <summary>
    /// Drops retired generations beyond the policy's retention, rolled-back generations (candidates again) beyond the
    /// same count, and candidates whose build failed; returns how many. Rolled-back generations used to stay until
    /// promoted or dropped in process: a few promote-and-rollback cycles filled the generation limit, after which every
    /// build was refused and gc could not help, each of them holding its codes and index in memory.
    /// </summary>
    public int CollectGenerations()
    {
        _journal.CheckWritable("collecting compression generations");
        int keep = Policy.RetainRetired;
        var drop = new List<Generation>();
        _lock.EnterReadLock();
        try
        {
            ThrowIfClosed();
            drop.AddRange(_generations.Where(g => g.State == GenerationState.Retired).OrderByDescending(g => g.RetiredOrder).Skip(keep));
            drop.AddRange(_generations.Where(g => g.State == GenerationState.Candidate && g.Error is not null));
            drop.AddRange(_generations.Where(g => g.State == GenerationState.Candidate && g.Error is null && g.RetiredOrder > 0)
                .OrderByDescending(g => g.RetiredOrder).Skip(keep));
        }
        finally { _lock.ExitReadLock(); }
        int dropped = 0;
        foreach (var g in drop)
            if (Drop(g)) dropped++;
        return dropped;
    }

    private void DropBeyondRetention()
    {
        try { CollectGenerations(); }
        catch (Exception e) when (e is IOException or VectorStoreException)
        {
            // Retention is housekeeping: the promotion itself is durable; the next gc retries.
        }
    }

    /// <summary>Drops a non-live generation (logged); false when it is already gone or live.</summary>
    public bool DropGeneration(int generation)
    {
        _journal.CheckWritable("dropping a compression generation");
        var g = Find(generation);
        if (g == _current) throw new InvalidArgumentException($"generation {generation} of '{Name}' is live: promote or roll back first");
        return Drop(g);
    }

    private bool Drop(Generation g)
    {
        long ticket;
        _lock.EnterWriteLock();
        try
        {
            ThrowIfClosed();
            if (g == _current || !_generations.Contains(g)) return false;
            RecoverFromJournalFailureLocked();
            ticket = _journal.AppendGeneration(new GenerationRecord(GenerationOp.Drop, g.Number, null, null, false));
            RemoveLocked(g);
        }
        finally { _lock.ExitWriteLock(); }
        WaitDurable(ticket);
        return true;
    }

    private void RemoveLocked(Generation g)
    {
        g.Cancel.Cancel();
        _generations.Remove(g);
        _attached = _attached.Where(a => a != g).ToArray();
        if (_exposure?.Generation == g) _exposure = null;
        if (_canary?.Generation == g) _canary.Stop();
    }

    /// <summary>
    /// After recovery: retries the live generation's training when the collection is past its threshold but has no
    /// index (its training failed before the restart, so <see cref="TrainingError"/> says why again), and starts the
    /// builds of declared candidates that have no index yet (a crash interrupted them).
    /// </summary>
    /// <remarks>A read-only database retries the training too (in memory: training logs nothing) but builds no candidate.</remarks>
    internal void AfterRecovery(bool writable)
    {
        _lock.EnterWriteLock();
        try
        {
            if (!_closed && _index is null && _slots.Count > 0 && _slots.Count >= Options.TrainingThreshold) TryTrainLocked();
        }
        finally { _lock.ExitWriteLock(); }
        // Held back while the log replayed (a rebalance on the pool ran beside the replay).
        QueueRebalanceIfNeeded();
        if (!writable) return;
        List<Generation> unbuilt;
        _lock.EnterReadLock();
        try { unbuilt = _generations.Where(g => g != _current && g.Index is null && g.Error is null && g.Build.IsCompleted).ToList(); }
        finally { _lock.ExitReadLock(); }
        foreach (var g in unbuilt) StartBuild(g);
    }

    /// <summary>Replays a logged generation change (recovery owns the collection; no lock is held by the caller).</summary>
    private void ReplayGenerationChange(GenerationRecord r)
    {
        switch (r.Op)
        {
            case GenerationOp.Declare:
            {
                var (c, i) = (Options with { Compression = r.Compression!, Index = r.Index! }).Validate();
                _lock.EnterWriteLock();
                try
                {
                    if (_generations.Any(g => g.Number == r.Number)) return;
                    // A caller's sample is not persisted: such a generation is never rebuilt from another one.
                    _generations.Add(new Generation(r.Number, c, i, GenerationState.Candidate)
                    {
                        GivenSample = r.GivenSample,
                        Error = r.GivenSample ? "its build was interrupted and its training sample (given by the caller) was not kept: drop it and build it again" : null,
                    });
                    _lastGeneration = Math.Max(_lastGeneration, r.Number);
                }
                finally { _lock.ExitWriteLock(); }
                break;
            }
            case GenerationOp.SetLive:
            {
                var g = _generations.Find(x => x.Number == r.Number)
                    ?? throw new StoreCorruptedException(Name, $"the log makes generation {r.Number} live, but it was never declared");
                // Made live after its build but before a checkpoint captured it: build it now, from the vectors as
                // they were at that point of the log (seeded as the original build was). A given-sample generation
                // is ready only once a snapshot holds its index, so the log never makes one live without it.
                if (g.Index is null && g.GivenSample)
                    throw new StoreCorruptedException(Name, $"the log makes generation {r.Number} live, but no snapshot holds its index (it was trained on a caller's sample)");
                if (g.Index is null && _slots.Count > 0) BuildNow(g, checkpoint: false);
                _lock.EnterWriteLock();
                try
                {
                    if (g != _current) SwapLiveLocked(g, r.Rollback);
                }
                finally { _lock.ExitWriteLock(); }
                break;
            }
            case GenerationOp.Policy:
                Volatile.Write(ref _policy, PolicyCodec.Decode(r.Policy, Name));
                break;
            case GenerationOp.Drop:
            {
                _lock.EnterWriteLock();
                try
                {
                    if (_generations.Find(x => x.Number == r.Number) is { } g && g != _current) RemoveLocked(g);
                }
                finally { _lock.ExitWriteLock(); }
                break;
            }
        }
    }

    /// <summary>The snapshot's record of the generations (under the upgradeable lock): only attached indexes are written.</summary>
    private SnapshotGenerations SnapshotGenerationsLocked(string directory)
    {
        var (drift, driftBaseline, reservoir) = DriftStateLocked(directory);
        return new(
            _current.Number, _lastGeneration, _current.Compression.ToString(), _current.IndexSpec.ToString(),
            // A given-sample generation still building is left out: recovery could not rebuild it with its sample.
            _generations.Where(g => g != _current && !(g.GivenSample && !g.Attached))
                .Select(g => new SnapshotGeneration(g.Number, g.State, g.Compression.ToString(), g.IndexSpec.ToString(), g.RetiredOrder,
                    g.Attached ? g.Index : null, g.Attached ? g.Refine : null))
                .ToArray(),
            drift) { Policy = PolicyCodec.Encode(Policy), DriftBaseline = driftBaseline, DriftReservoir = reservoir, Tuning = TuningStateLocked(directory) };
    }

    /// <summary>Restores the generations a snapshot recorded (under the write lock, into an empty collection).</summary>
    private void RestoreGenerationsLocked(SnapshotGenerations? s, VectorIndex? liveIndex, RefineStage? liveRefine)
    {
        if (s is not null)
        {
            var live = s.LiveCompression.Length == 0
                ? _current
                : Restored(s.Live, s.LiveCompression, s.LiveIndex, GenerationState.Live);
            _generations.Clear();
            _current = live;
            _generations.Add(live);
            _lastGeneration = s.Last;
            foreach (var o in s.Others)
            {
                var g = Restored(o.Number, o.Compression, o.Index, o.State);
                g.RetiredOrder = o.RetiredOrder;
                _retiredOrder = Math.Max(_retiredOrder, o.RetiredOrder);
                g.Index = o.Trained;
                g.Refine = o.Refine;
                g.Attached = o.Trained is not null;
                _generations.Add(g);
            }
            _generations.Sort((a, b) => a.Number.CompareTo(b.Number));
            _attached = _generations.Where(g => g != _current && g.Attached).ToArray();
            Options = Options with { Compression = _current.Compression.ToString(), Index = _current.IndexSpec.ToString() };
        }
        if (s?.Policy is { } policy) Volatile.Write(ref _policy, PolicyCodec.Decode(policy, Name));
        _current.Index = liveIndex;
        _current.Refine = liveRefine;
        _current.Attached = liveIndex is not null;
        RestoreDriftLocked(s);
        RestoreTuningLocked(s?.Tuning ?? SnapshotTuning.None);
    }

    private Generation Restored(int number, string compression, string index, GenerationState state)
    {
        var (c, i) = (Options with { Compression = compression, Index = index }).Validate();
        return new Generation(number, c, i, state);
    }
}
