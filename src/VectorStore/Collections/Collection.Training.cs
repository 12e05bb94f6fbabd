using VectorStore.Indexing;
using VectorStore.Quantization;

namespace VectorStore.Collections;

/// <summary>
/// The index's life in the live generation: the first training (on request, or when a write crosses
/// <see cref="CollectionOptions.TrainingThreshold"/>), and the repairs an index asks for (<see cref="Rebalance"/>).
/// Also the building steps every index shares (adding stored vectors a chunk at a time under the lock each needs, and
/// bringing changed slots up to date). These decide when and hold the locks; <see cref="IndexBuilder"/> samples,
/// trains and copies; candidate generations are built in <c>Collection.Generations.cs</c>.
/// </summary>
public sealed partial class Collection
{
    /// <summary>Trains the codec and builds the index now, on the vectors present (at least one).</summary>
    public void BuildIndex()
    {
        _journal.CheckWritable("building the index");
        long ticket;
        _lock.EnterWriteLock();
        try
        {
            ThrowIfClosed();
            if (_index is not null) return;
            RecoverFromJournalFailureLocked();
            TrainLocked();
            ticket = _journal.AppendBuildIndex();
        }
        finally { _lock.ExitWriteLock(); }
        WaitDurable(ticket);
    }

    /// <summary>
    /// Automatic training after a write crossed the threshold. The write itself is already logged and applied and is
    /// valid, so a training failure (too few distinct vectors for the codebooks, say) must not fail it or make the log
    /// unreplayable: the collection keeps answering with exact scans, records why, and tries again once it has
    /// doubled in size. <see cref="BuildIndex"/> still reports the error to its caller.
    /// </summary>
    private void TryTrainLocked()
    {
        try
        {
            TrainLocked();
            TrainingError = null;
        }
        catch (Exception e) when (e is VectorStoreException or OutOfMemoryException)
        {
            // Out of memory too: the write that crossed the threshold is whole (training publishes nothing until it
            // is done), so the collection keeps serving exactly and tries again at twice the count.
            TrainingError = e.Message;
            _retrainAt = checked(_slots.Count * 2);
        }
    }

    private int _retrainAt;

    /// <summary>Why the last automatic training failed, or null. Searches stay exact until training succeeds.</summary>
    public string? TrainingError { get; private set; }

    private void TrainIndexLocked()
    {
        if (_slots.Count == 0) throw new InvalidArgumentException($"collection '{Name}' has no vectors to train on");
        var liveSlots = _slots.LiveSlots();
        var sample = _builder.Sample(liveSlots, Options.Seed);
        var (index, refine) = _builder.TrainEmpty(_current.Compression, _current.IndexSpec, sample, _slots.HighWater);
        // One batch of every live vector (the write lock is held, so nothing changes meanwhile).
        AddChunk(index, refine, liveSlots, locked: true);
        _current.Refine = refine;
        _current.Index = index;
        _current.Attached = true;
        RetuneLocked(_current);
        StartDriftMonitor(_current, sample);
    }

    /// <summary>
    /// Repairs the index when it reports drift (IVF: unbalanced lists, spare capacity), or always with
    /// <paramref name="force"/>. Searches keep running while the repair is computed; writes wait. Returns a summary of
    /// what changed, or null when nothing ran. Also runs by itself, in the background, when a write crosses the
    /// index's threshold.
    /// </summary>
    public string? Rebalance(bool force = false)
    {
        // Upgradeable read: excludes writers (the plan must see a frozen index) but not searches.
        _lock.EnterUpgradeableReadLock();
        try
        {
            if (_closed || _index is not IRebalancingIndex r || !(force || r.NeedsRebalance)) return null;
            var plan = r.PlanRebalance(_raw.Get, force);
            _lock.EnterWriteLock();
            try
            {
                r.ApplyRebalance(plan);
                RetuneLocked(_current);
            }
            finally { _lock.ExitWriteLock(); }
            return plan.Summary;
        }
        finally { _lock.ExitUpgradeableReadLock(); }
    }

    private void QueueRebalanceIfNeeded()
    {
        // An unlocked peek: the flag is a heuristic, and Rebalance re-checks under the lock.
        if (_index is not IRebalancingIndex { NeedsRebalance: true }) return;
        if (Interlocked.CompareExchange(ref _rebalanceQueued, 1, 0) != 0) return;
        ThreadPool.QueueUserWorkItem(_ =>
        {
            try { Rebalance(); }
            catch (Exception)
            {
                // A failed repair leaves the old, still correct, structure serving; the next write that finds the
                // threshold crossed tries again.
            }
            finally { Volatile.Write(ref _rebalanceQueued, 0); }
        });
    }

    /// <summary>
    /// Copies the live vectors among <paramref name="chunk"/> (under the read lock unless the caller already holds a
    /// lock that excludes writers: <paramref name="locked"/>) and adds them to a private index.
    /// </summary>
    private void AddChunk(VectorIndex index, RefineStage? refine, int[] chunk, bool locked)
    {
        var buffers = _builder.Buffers(chunk.Length);
        int n;
        if (!locked) _lock.EnterReadLock();
        try
        {
            ThrowIfClosed();
            n = _builder.CopyLive(chunk, buffers);
        }
        finally
        {
            if (!locked) _lock.ExitReadLock();
        }
        _builder.Add(index, refine, buffers, n);
    }

    /// <summary>Re-adds slots written during a build: each is removed from the private index, then added back if live.</summary>
    private void ReplayPending(VectorIndex index, RefineStage? refine, HashSet<int> pending, bool locked)
    {
        if (pending.Count == 0) return;
        ReplaySlots(index, refine, pending.ToArray(), locked);
    }

    /// <summary>
    /// Brings <paramref name="slots"/> of <paramref name="index"/> up to date: each is removed, then the live ones are
    /// added again from their stored vectors, <see cref="IndexBuilder.Chunk"/> at a time (a build's pending writes, the
    /// changes since a restored index file).
    /// </summary>
    private void ReplaySlots(VectorIndex index, RefineStage? refine, int[] slots, bool locked)
    {
        foreach (int s in slots) index.Remove(s);
        for (int at = 0; at < slots.Length; at += IndexBuilder.Chunk)
            AddChunk(index, refine, slots.AsSpan(at, Math.Min(IndexBuilder.Chunk, slots.Length - at)).ToArray(), locked);
    }
}
