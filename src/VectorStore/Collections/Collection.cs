using VectorStore.Clustering;
using VectorStore.Distance;
using VectorStore.Filtering;
using VectorStore.Indexing;
using VectorStore.Quantization;
using VectorStore.Ranking;
using VectorStore.Storage;
using VectorStore.Telemetry;

namespace VectorStore.Collections;

/// <summary>
/// A named set of vectors with a fixed dimension, metric, compression and index. Ids are caller-chosen
/// <see cref="ulong"/>s; each vector may carry a byte payload.
/// </summary>
/// <remarks>
/// Thread-safety: every member may be called from any thread. Searches run concurrently with each other; a write
/// (upsert, delete, training) waits for running searches and blocks new ones only while it applies its change in
/// memory. A write returns once it is durable (for a collection in a database directory).
/// </remarks>
public sealed partial class Collection
{
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly SlotTable _slots = new();
    private readonly SegmentedVectors _raw;
    // The live generation (answers queries), and every generation (live, candidates, retired), oldest first. Both
    // change only under the write lock; _attached holds the non-live generations whose indexes receive writes.
    private Generation _current;
    private readonly List<Generation> _generations = [];
    private Generation[] _attached = [];
    private int _lastGeneration = 1;
    private readonly ThreadLocal<SearchScratch> _scratch;
    private readonly ICollectionJournal _journal;
    // Declared fields with their indexes; null when the collection declares none.
    private readonly FieldIndex? _fields;
    // The in-RAM second stage (CollectionOptions.Refine), trained with the index; null without one or before training.
    private readonly CompressionSpec? _refineSpec;
    private int _rebalanceQueued;
    private readonly FilterCache _filterCache = new();
    private readonly int _threads;

    /// <summary>
    /// A collection logging to <paramref name="journal"/> (none: in memory) whose training, index construction, rerank
    /// tuning and <see cref="SearchBatch"/> fan out to <paramref name="threads"/> workers: the database's
    /// <see cref="DatabaseOptions.Threads"/> (0 = all cores).
    /// </summary>
    /// <remarks>
    /// <paramref name="segmentDirectory"/> is where sealed segments go (a database directory's collection folder);
    /// without one the collection is in memory and keeps its vectors resident.
    /// </remarks>
    internal Collection(string name, CollectionOptions options, ICollectionJournal? journal = null, int threads = 0, string? segmentDirectory = null)
    {
        var (compression, indexSpec) = options.Validate();
        _current = new Generation(1, compression, indexSpec, Lifecycle.GenerationState.Live);
        _generations.Add(_current);
        var residency = options.RawVectors ?? (segmentDirectory is null ? RawVectorResidency.Ram : RawVectorResidency.Disk);
        if (segmentDirectory is null && residency == RawVectorResidency.Disk)
            throw new InvalidArgumentException("raw vectors 'disk' needs a database directory; an in-memory database keeps them in RAM");
        Name = name;
        Options = options with { RawVectors = residency };
        _threads = threads;
        _raw = new SegmentedVectors(options.Dimension, segmentDirectory, residency == RawVectorResidency.Ram);
        _journal = journal ?? NullJournal.Instance;
        _scratch = new ThreadLocal<SearchScratch>(() => new SearchScratch(options.Dimension));
        if (options.Fields is { Count: > 0 } fields) _fields = new FieldIndex(fields.ToArray());
        if (options.Refine is { } refine) _refineSpec = CompressionSpec.Parse(refine);
    }

    /// <summary>The collection's name.</summary>
    public string Name { get; }

    /// <summary>Its settings; <see cref="CollectionOptions.Compression"/> and <see cref="CollectionOptions.Index"/> are the live generation's.</summary>
    public CollectionOptions Options { get; private set; }

    /// <summary>The live generation's index (null while untrained).</summary>
    private VectorIndex? _index => _current.Index;

    /// <summary>The live generation's refine stage.</summary>
    private RefineStage? _refine => _current.Refine;

    /// <summary>Live vectors.</summary>
    public int Count
    {
        get
        {
            _lock.EnterReadLock();
            try { return _slots.Count; }
            finally { _lock.ExitReadLock(); }
        }
    }

    /// <summary>The resident full-precision vectors by slot (for benchmarks of the re-rank step; RAM residency only).</summary>
    internal RawVectorStore RawVectors => _raw.ResidentStore ?? throw new InvalidOperationException("the vectors of this collection live on disk");

    /// <summary>The full-precision vectors wherever they live.</summary>
    internal SegmentedVectors Vectors => _raw;

    /// <summary>The trained index, or null while the collection is below its training threshold.</summary>
    internal VectorIndex? Index => _index;

    /// <summary>Inserts or replaces one vector.</summary>
    public void Upsert(ulong id, ReadOnlySpan<float> vector, ReadOnlySpan<byte> payload = default)
    {
        var m = new VectorMatrix(vector.ToArray(), Options.Dimension == vector.Length ? vector.Length : ThrowDim(vector.Length));
        UpsertBatch([id], m, payload.IsEmpty ? null : [payload.ToArray()]);
    }

    /// <summary>Inserts or replaces one vector with field values (replacing all values it had).</summary>
    public void Upsert(ulong id, ReadOnlySpan<float> vector, ReadOnlySpan<byte> payload, IReadOnlyDictionary<string, FieldValue>? fields)
    {
        var m = new VectorMatrix(vector.ToArray(), Options.Dimension == vector.Length ? vector.Length : ThrowDim(vector.Length));
        UpsertBatch([id], m, payload.IsEmpty ? null : [payload.ToArray()], fields is null ? null : [fields]);
    }

    private int ThrowDim(int got) => throw new InvalidVectorException($"collection '{Name}' expects dimension {Options.Dimension}, got {got}");

    private void UpsertBatchCore(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads,
        IReadOnlyList<IReadOnlyDictionary<string, FieldValue>?>? fields)
    {
        if (vectors.Dimension != Options.Dimension) ThrowDim(vectors.Dimension);
        var prepared = UpsertBatchPreparation.Prepare(ids, vectors, payloads, Options.Metric, Interlocked.Exchange(ref _spareBatch, null));
        ApplyUpserts(ids, prepared, payloads, EncodeFields(ids, fields), log: true);
        ReturnSpareBatch(prepared);
    }

    // One prepared-batch array kept for the next batch of the same size; taken by exchange, so concurrent writers
    // never share it (the one that finds it gone allocates).
    private float[]? _spareBatch;

    /// <summary>
    /// Keeps a prepared batch's array for the next batch once the batch is applied: nothing holds the matrix then
    /// (indexes encode it, the drift monitor and the vector store copy rows). Only after success: an exception may
    /// leave a caller somewhere up the stack that could still look at it.
    /// </summary>
    private void ReturnSpareBatch(VectorMatrix prepared)
    {
        if (prepared.Data.Length >= 64 * 1024) Volatile.Write(ref _spareBatch, prepared.Data);
    }

    /// <summary>
    /// Checks every record's field values against the declared fields and encodes them, before anything changes;
    /// null when no record has any.
    /// </summary>
    private byte[]?[]? EncodeFields(IReadOnlyList<ulong> ids, IReadOnlyList<IReadOnlyDictionary<string, FieldValue>?>? fields)
    {
        if (fields is null) return null;
        if (fields.Count != ids.Count) throw new InvalidArgumentException($"{fields.Count} field sets for {ids.Count} vectors");
        byte[]?[]? records = null;
        for (int i = 0; i < fields.Count; i++)
        {
            if (fields[i] is not { Count: > 0 } values) continue;
            if (_fields is null)
                throw new InvalidArgumentException($"id {ids[i]}: collection '{Name}' declares no fields, so field values cannot be stored (declare fields at create)");
            (records ??= new byte[]?[ids.Count])[i] = FieldRecordCodec.Encode(_fields.Fields, values, ids[i]);
        }
        return records;
    }

    /// <summary>
    /// Batches whose vectors take at least this many bytes start their commit as soon as they are logged, so the
    /// write and fsyncs overlap placing and indexing (for 1,000 × 384 that work is about as long as the commit).
    /// Smaller writes commit when they wait, where concurrent writers share one commit.
    /// </summary>
    private const int OverlappedCommitBytes = 64 * 1024;

    internal void ApplyUpserts(IReadOnlyList<ulong> ids, VectorMatrix prepared, IReadOnlyList<byte[]?>? payloads, IReadOnlyList<byte[]?>? fieldRecords, bool log)
    {
        long ticket = ApplyUpsertsInMemory(ids, prepared, payloads, fieldRecords, log);
        if (log) WaitDurable(ticket);
        QueueRebalanceIfNeeded();
        ObserveDrift(prepared);
    }

    /// <summary>Logs (when <paramref name="log"/>) and applies a prepared batch; returns the journal ticket to wait for.</summary>
    private long ApplyUpsertsInMemory(IReadOnlyList<ulong> ids, VectorMatrix prepared, IReadOnlyList<byte[]?>? payloads,
        IReadOnlyList<byte[]?>? fieldRecords, bool log)
    {
        if (log) _journal.CheckWritable("upsert");
        if (_fields is null && fieldRecords is not null && fieldRecords.Any(r => r is not null))
            throw new StoreCorruptedException(Name, "a logged record carries field values but the collection declares no fields");
        long ticket = 0;
        // Upgradeable: other writers wait, searches keep running while a self-synchronizing index absorbs the batch.
        _lock.EnterUpgradeableReadLock();
        bool writing = false;
        try
        {
            _lock.EnterWriteLock();
            writing = true;
            ThrowIfClosed();
            if (log)
            {
                RecoverFromJournalFailureLocked();
                long[]? rowTickets = _journal.CanFail ? new long[ids.Count] : null;
                ticket = _journal.AppendUpserts(ids, prepared, payloads, fieldRecords, rowTickets);
                if (rowTickets is not null) RecordUndoLocked(ids, rowTickets);
                if ((long)prepared.Count * prepared.Dimension * sizeof(float) >= OverlappedCommitBytes) _journal.BeginDurable(ticket);
            }
            var slots = PlaceRowsLocked(ids, prepared, payloads, fieldRecords);
            var others = _attached;
            foreach (var g in others)
                if (!g.Index!.SupportsConcurrentSearch) g.Index.AddBatch(slots, prepared, _threads);
            if (_index is { SupportsConcurrentSearch: true } concurrent)
            {
                _lock.ExitWriteLock();
                writing = false;
                concurrent.AddBatch(slots, prepared, _threads);
            }
            else if (_index is not null) _index.AddBatch(slots, prepared, _threads);
            else if (_slots.Count >= Options.TrainingThreshold && _slots.Count >= _retrainAt) TryTrainLocked();
            if (writing)
            {
                _lock.ExitWriteLock();
                writing = false;
            }
            // Still under the upgradeable lock: no other writer, and canary searches of these indexes may run.
            foreach (var g in others)
                if (g.Index!.SupportsConcurrentSearch) g.Index.AddBatch(slots, prepared, _threads);
        }
        finally
        {
            if (writing) _lock.ExitWriteLock();
            _lock.ExitUpgradeableReadLock();
        }
        return ticket;
    }

    /// <summary>
    /// Stores a batch's rows in their slots (new ids get free ones): raw vectors, refine codes, payloads, fields, the
    /// pending-build list; indexes only lose the replaced rows (the caller adds the batch). Write lock held.
    /// </summary>
    private int[] PlaceRowsLocked(IReadOnlyList<ulong> ids, VectorMatrix prepared, IReadOnlyList<byte[]?>? payloads, IReadOnlyList<byte[]?>? fieldRecords)
    {
        _filterCache.Invalidate();
        var slots = new int[ids.Count];
        for (int i = 0; i < ids.Count; i++)
        {
            int slot = _slots.Place(ids[i], out bool added);
            if (!added)
            {
                _index?.Remove(slot);
                foreach (var g in _attached) g.Index!.Remove(slot);
            }
            slots[i] = slot;
            _raw.Set(slot, prepared.Row(i), payloads?[i]);
            _refine?.Encode(slot, prepared.Row(i));
            foreach (var g in _attached) g.Refine?.Encode(slot, prepared.Row(i));
            _fields?.Set(slot, fieldRecords?[i], Name);
        }
        _fields?.CompleteBatch();
        NotePending(slots);
        return slots;
    }

    private bool DeleteCore(ulong id)
    {
        if (!DeleteInMemory(id, out long ticket)) return false;
        WaitDurable(ticket);
        QueueRebalanceIfNeeded();
        return true;
    }

    /// <summary>Logs and applies the deletion of <paramref name="id"/>; false (no ticket) when it was absent.</summary>
    private bool DeleteInMemory(ulong id, out long ticket)
    {
        _journal.CheckWritable("delete");
        ticket = 0;
        _lock.EnterWriteLock();
        try
        {
            ThrowIfClosed();
            RecoverFromJournalFailureLocked();
            // Log first: if the append fails, memory still matches the log.
            if (!_slots.Contains(id)) return false;
            ticket = _journal.AppendDelete(id);
            if (_journal.CanFail) RecordUndoLocked([id], [ticket]);
            ApplyDelete(id);
            return true;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
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

    internal bool ApplyDelete(ulong id)
    {
        if (!_slots.Remove(id, out int slot)) return false;
        _filterCache.Invalidate();
        _index?.Remove(slot);
        foreach (var g in _attached) g.Index!.Remove(slot);
        NotePending([slot]);
        _fields?.Remove(slot);
        _raw.Remove(slot);
        return true;
    }

    /// <summary>Whether <paramref name="id"/> is present.</summary>
    public bool Contains(ulong id)
    {
        _lock.EnterReadLock();
        try { return _slots.Contains(id); }
        finally { _lock.ExitReadLock(); }
    }

    private VectorRecord? GetCore(ulong id)
    {
        _lock.EnterReadLock();
        try
        {
            ThrowIfClosed();
            if (!_slots.TryGetSlot(id, out int slot)) return null;
            return new VectorRecord(id, _raw.Get(slot).ToArray(), PayloadAt(slot) ?? [])
            {
                Fields = _fields?.Get(slot) ?? VectorRecord.EmptyFields,
            };
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>Every live id, ascending.</summary>
    public ulong[] Ids() => Ids(null);

    /// <summary>
    /// Every live id whose field values <paramref name="where"/> admits (every live id when null), ascending. The
    /// expression is answered by the field indexes, as a filtered search's is (and shares its cache of built filters).
    /// </summary>
    /// <exception cref="InvalidArgumentException">The expression names an undeclared field or compares a field with a value of another type.</exception>
    public ulong[] Ids(FilterExpression? where)
    {
        _lock.EnterReadLock();
        try
        {
            ThrowIfClosed();
            ulong[] ids;
            if (where is null)
            {
                var live = _slots.LiveSlots();
                ids = new ulong[live.Length];
                for (int i = 0; i < live.Length; i++) ids[i] = _slots.Ids[live[i]];
            }
            else
            {
                using var filter = BuildFilter(new SearchFilter { Where = where });
                ids = new ulong[filter.Count];
                int n = 0;
                foreach (int slot in filter.Slots()) ids[n++] = _slots.Ids[slot];
            }
            Array.Sort(ids);
            return ids;
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>
    /// One page of <see cref="Ids(FilterExpression?)"/>: the ids greater than <paramref name="after"/> (null: from the
    /// smallest), ascending, at most <paramref name="limit"/> of them. Each page lists the matches afresh, so prefer few
    /// large pages.
    /// </summary>
    /// <exception cref="InvalidArgumentException"><paramref name="limit"/> is not positive, or the expression is invalid for this collection.</exception>
    public IdPage IdPage(ulong? after, int limit, FilterExpression? where = null)
    {
        if (limit <= 0) throw new InvalidArgumentException($"limit must be positive, got {limit}");
        var ids = Ids(where);
        int start = 0;
        if (after is ulong a)
        {
            int i = Array.BinarySearch(ids, a);
            start = i >= 0 ? i + 1 : ~i;
        }
        int n = Math.Min(limit, ids.Length - start);
        return new IdPage(ids.AsSpan(start, n).ToArray(), start + n < ids.Length);
    }

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
        catch (VectorStoreException e)
        {
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
        var sample = SampleLocked(liveSlots, Options.Seed);
        var (index, refine) = TrainEmpty(_current, sample);
        // One batch of every live vector (the write lock is held, so nothing changes meanwhile).
        AddChunk(index, refine, liveSlots, locked: true);
        _current.Refine = refine;
        _current.Index = index;
        _current.Attached = true;
        RetuneLocked(_current);
        StartDriftMonitor(_current, sample);
    }

    /// <summary>A seeded uniform sample (without replacement) of up to <see cref="CollectionOptions.MaxTrainingSample"/> of <paramref name="liveSlots"/>' vectors; needs a lock that excludes writers.</summary>
    private VectorMatrix SampleLocked(int[] liveSlots, int seed)
    {
        var rng = new Random(seed);
        int sampleSize = Math.Min(Options.MaxTrainingSample, liveSlots.Length);
        // Partial Fisher–Yates over slots.
        var order = (int[])liveSlots.Clone();
        for (int i = 0; i < sampleSize; i++)
        {
            int j = rng.Next(i, order.Length);
            (order[i], order[j]) = (order[j], order[i]);
        }
        var sample = new VectorMatrix(sampleSize, Options.Dimension);
        for (int i = 0; i < sampleSize; i++) _raw.Get(order[i]).CopyTo(sample[i]);
        return sample;
    }

    /// <summary>Trains <paramref name="g"/>'s codec (and the collection's refine stage) on <paramref name="sample"/>: an empty index. Needs no lock.</summary>
    private (VectorIndex Index, RefineStage? Refine) TrainEmpty(Generation g, VectorMatrix sample)
    {
        var context = new TrainingContext { Seed = Options.Seed, Threads = _threads };
        var kind = Options.Metric.ToDistanceKind();
        var index = IndexRegistry.Get(g.IndexSpec).Create(g.IndexSpec, g.Compression, Options.Dimension, kind, sample, context);
        var refine = _refineSpec is null ? null : RefineStage.Train(_refineSpec, sample, kind, context);
        return (index, refine);
    }

    /// <summary>The payload of a live slot (null: none): resident, buffered, or read from its segment.</summary>
    private byte[]? PayloadAt(int slot) => _raw.Payload(slot);

    private SearchHit[] SearchCore(ReadOnlySpan<float> query, SearchOptions? options)
    {
        options ??= new SearchOptions();
        ValidateSearch(query.Length, options);
        var scratch = _scratch.Value!;
        var q = scratch.Query;
        PrepareQuery(query, q);
        var canary = _canary;
        SearchHit[] hits;
        Generation served;
        double ms = 0;
        _lock.EnterReadLock();
        try
        {
            ThrowIfClosed();
            served = Serving(options);
            // Timed inside the lock, as the canary times the candidate: the two latencies compare search work, not lock waits.
            long started = canary is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
            hits = SearchLocked(q, options, scratch, served);
            if (canary is not null) ms = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        finally { _lock.ExitReadLock(); }
        if (canary is not null && served == _current) canary.Offer(q, options, hits, ms);
        return hits;
    }

    /// <summary>
    /// Copies <paramref name="query"/> into <paramref name="q"/>, refusing a non-finite value (naming query
    /// <paramref name="row"/> of a batch when given), and normalizes it for cosine.
    /// </summary>
    private void PrepareQuery(ReadOnlySpan<float> query, Span<float> q, int row = -1)
    {
        CheckFinite(query, row);
        CopyNormalized(query, q);
    }

    /// <summary>Refuses a non-finite value in <paramref name="query"/>, naming query <paramref name="row"/> of a batch when given.</summary>
    private static void CheckFinite(ReadOnlySpan<float> query, int row = -1)
    {
        for (int d = 0; d < query.Length; d++)
            if (!float.IsFinite(query[d])) throw new InvalidVectorException($"query{(row >= 0 ? $" {row}" : "")} has a non-finite value at dimension {d}");
    }

    /// <summary>Copies a checked <paramref name="query"/> into <paramref name="q"/>, normalized for cosine.</summary>
    private void CopyNormalized(ReadOnlySpan<float> query, Span<float> q)
    {
        query.CopyTo(q);
        if (Options.Metric == Metric.Cosine) Distances.Normalize(q);
    }

    /// <summary><paramref name="threads"/> workers when positive, else the database's setting, else every core.</summary>
    private ParallelOptions Parallelism(int threads) =>
        new() { MaxDegreeOfParallelism = threads > 0 ? threads : _threads > 0 ? _threads : Environment.ProcessorCount };

    private void ValidateSearch(int dimension, SearchOptions options)
    {
        if (dimension != Options.Dimension) ThrowDim(dimension);
        if (options.K is <= 0 or > SearchOptions.MaxK) throw new InvalidArgumentException($"k must be in 1..{SearchOptions.MaxK}, got {options.K}");
        if (options.Rerank is < 0 or > SearchOptions.MaxK) throw new InvalidArgumentException($"rerank must be in 0..{SearchOptions.MaxK}, got {options.Rerank}");
        if (options.Ef < 0 || options.NProbe < 0) throw new InvalidArgumentException("ef and nprobe must not be negative");
        if (!(options.TargetRecall is >= 0 and <= 1)) throw new InvalidArgumentException($"target recall must be in [0, 1], got {options.TargetRecall}");
    }

    /// <summary>
    /// Filters at or below this many matches are answered by an exact scan of just the matches when the vectors are in
    /// RAM. Out of core each exact score is a read, so there the bound is twice the re-rank depth (as many reads as
    /// the index path would make anyway).
    /// </summary>
    internal const int ExactFilterThreshold = 4096;

    /// <summary>
    /// At or above this fraction of live records matching, a filter is applied after an over-fetching unfiltered
    /// search. Not lower: a filter correlated against the query's neighbourhood (measured: `kind == para`, 59 % of the
    /// text set, against summary-like queries) leaves fewer matches than candidates in two queries of three, and each
    /// such query then pays the filtered search on top.
    /// </summary>
    internal const double PostFilterFraction = 0.9;

    /// <summary>
    /// Searches generation <paramref name="gen"/> (its index, refine stage and tuned re-rank depths); with
    /// <paramref name="exact"/>, or while it is untrained, scores every (matching) vector at full precision.
    /// </summary>
    private SearchHit[] SearchLocked(float[] q, SearchOptions options, SearchScratch scratch, Generation gen, bool exact = false)
    {
        var index = exact ? null : gen.Index;
        using var filter = options.Filter is null ? null : BuildFilter(options.Filter);
        int k = options.K;
        var heap = scratch.Heap;
        if (filter is { Count: 0 })
        {
            scratch.Stats = new SearchStats(Exact: true, Reranked: 0, FilterPlan.Empty);
            return [];
        }
        int exactBound = Options.RawVectors == RawVectorResidency.Disk ? 2 * Math.Max(k, options.Rerank) : ExactFilterThreshold;
        if (index is null || (filter is not null && filter.Count <= exactBound))
        {
            // Exact: no index yet, or a filter so selective that scoring its matches is cheaper and exact.
            var kind = Options.Metric.ToDistanceKind();
            heap.Reset(k);
            IEnumerable<int> slots = filter is not null ? filter.Slots() : _slots.LiveSlots();
            foreach (int slot in slots) heap.Push(slot, Distances.Compute(kind, q, _raw.Get(slot)));
            scratch.Stats = new SearchStats(Exact: true, Reranked: 0, filter is null ? FilterPlan.None : FilterPlan.Exact, filter?.Count ?? 0);
            return Drain(heap, k, scratch, options, 0);
        }
        var (p, rerank, candidates) = Knobs(gen, index, options);
        var plan = filter is null ? FilterPlan.None : FilterPlan.Index;
        double fraction = filter is null ? 1 : filter.Count / (double)Math.Max(1, _slots.Count);
        if (filter is not null && fraction >= PostFilterFraction && PostFilterSearch(index, q, p, filter, fraction, candidates, scratch))
            plan = FilterPlan.PostFilter;
        else
        {
            heap.Reset(candidates);
            index.Search(q, p, filter, heap);
        }
        scratch.Stats = new SearchStats(Exact: false, Reranked: 0, plan, filter?.Count ?? 0);
        return Finish(q, heap, rerank, candidates, options, scratch, gen);
    }

    /// <summary>
    /// The index knobs of a search of <paramref name="gen"/>, its re-rank depth (the tuned ones for a target recall,
    /// tuned once per generation), and how many candidates the index is asked for.
    /// </summary>
    private (IndexSearchParameters P, int Rerank, int Candidates) Knobs(Generation gen, VectorIndex index, SearchOptions options)
    {
        bool exactCodes = index.Codec.EstimatesAreExact;
        var p = new IndexSearchParameters { Ef = options.Ef, NProbe = options.NProbe };
        int rerank = options.Rerank, k = options.K;
        if (rerank == 0 && options.TargetRecall > 0 && !exactCodes)
        {
            // The depth and whatever knob the caller left at 0, tuned once per generation for this target.
            var tuned = Tuned(gen, options.TargetRecall, k, p);
            rerank = tuned.Rerank;
            p = new IndexSearchParameters { Ef = tuned.Ef, NProbe = tuned.NProbe };
        }
        return (p, exactCodes ? 0 : rerank, exactCodes ? k : Math.Max(k, rerank));
    }

    /// <summary>
    /// Re-ranks the index's <paramref name="candidates"/> (the refine stage, or full precision) when
    /// <paramref name="rerank"/> asks for it, and returns the best k as hits. <paramref name="heap"/> may be the
    /// scratch's own heap: it is drained before that is reused.
    /// </summary>
    private SearchHit[] Finish(float[] q, TopK heap, int rerank, int candidates, SearchOptions options, SearchScratch scratch, Generation gen)
    {
        int k = options.K, number = gen.Number;
        if (rerank <= 0) return Drain(heap, k, scratch, options, number);
        // The candidates' order does not matter: they are re-scored, and the heap ranks ties by slot.
        int n = heap.DrainUnordered(scratch.Slots(candidates), scratch.Dists(candidates));
        heap = scratch.Heap;
        heap.Reset(k);
        if (gen.Refine is { } refine)
        {
            // Second stage: the finer in-RAM code, and full precision only where its error bound cannot decide.
            int reads = refine.Refine(q, scratch.SlotBuffer.AsSpan(0, n), k, heap, _raw);
            scratch.Stats = scratch.Stats with { Reranked = reads };
            return Drain(heap, k, scratch, options, number);
        }
        var cs = scratch.SlotBuffer;
        // Score all candidates first (prefetching ahead: they are DRAM misses), then offer them.
        var ds = scratch.DistBuffer;
        _raw.ComputeDistances(Options.Metric.ToDistanceKind(), q, cs.AsSpan(0, n), ds.AsSpan(0, n));
        for (int i = 0; i < n; i++) heap.Push(cs[i], ds[i]);
        scratch.Stats = scratch.Stats with { Reranked = n };
        return Drain(heap, k, scratch, options, number);
    }

    /// <summary>
    /// Most records match: searches without the filter for <paramref name="candidates"/>/fraction (plus slack)
    /// candidates with a beam and probe widened alike, and keeps the matching ones in the scratch heap. False (heap
    /// unspecified) when fewer than <paramref name="candidates"/> survive: the caller then searches with the filter.
    /// </summary>
    private bool PostFilterSearch(VectorIndex index, float[] q, IndexSearchParameters p, SlotFilter filter, double fraction, int candidates, SearchScratch scratch)
    {
        int fetch = (int)Math.Min(SearchOptions.MaxK, Math.Ceiling(candidates / fraction) + 8);
        var wide = new IndexSearchParameters
        {
            Ef = p.Ef > 0 ? (int)Math.Ceiling(p.Ef / fraction) : 0,
            NProbe = p.NProbe > 0 ? (int)Math.Ceiling(p.NProbe / fraction) : 0,
        };
        var heap = scratch.Heap;
        heap.Reset(fetch);
        index.Search(q, wide, null, heap);
        int n = heap.DrainUnordered(scratch.Slots(fetch), scratch.Dists(fetch));
        heap.Reset(candidates);
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            int slot = scratch.SlotBuffer[i];
            if (!filter.Contains(slot)) continue;
            heap.Push(slot, scratch.DistBuffer[i]);
            kept++;
        }
        return kept >= candidates;
    }

    private SearchHit[] Drain(TopK heap, int k, SearchScratch scratch, SearchOptions options, int generation)
    {
        int n = heap.Drain(scratch.Slots(k), scratch.Dists(k));
        var hits = new SearchHit[n];
        bool extras = options.IncludeFields || options.IncludePayload || options.IncludeVector;
        for (int i = 0; i < n; i++)
        {
            int slot = scratch.SlotBuffer[i];
            var hit = new SearchHit(_slots.Ids[slot], Options.Metric.ToScore(scratch.DistBuffer[i])) { Generation = generation };
            if (extras)
            {
                hit = hit with
                {
                    Fields = options.IncludeFields ? _fields?.Get(slot) ?? VectorRecord.EmptyFields : null,
                    Payload = options.IncludePayload ? PayloadAt(slot) ?? [] : null,
                    Vector = options.IncludeVector ? _raw.Get(slot).ToArray() : null,
                };
            }
            hits[i] = hit;
        }
        return hits;
    }

    /// <summary>The statistics of this thread's last search on this collection (for <c>eval</c> and tests).</summary>
    internal SearchStats LastSearchStats => _scratch.Value!.Stats;

    /// <summary>
    /// The slots a filter admits: the field expression is evaluated on the field indexes (bitmaps), then intersected
    /// with the id set and the predicate, each tested only on what the previous parts admitted.
    /// </summary>
    private SlotFilter BuildFilter(SearchFilter f)
    {
        if (f is { Where: not null, Ids: null, Predicate: null })
            return _filterCache.GetOrBuild(f.Where, () => BuildFilterInto(new SlotFilter(_slots.HighWater), f));
        return BuildFilterInto(SlotFilter.Rent(_slots.HighWater), f);
    }

    private SlotFilter BuildFilterInto(SlotFilter filter, SearchFilter f)
    {
        try
        {
            using var matches = f.Where is null ? null : FilterEvaluator.Evaluate(_fields, f.Where);
            if (f.Ids is not null)
            {
                foreach (var id in f.Ids)
                    if (_slots.TryGetSlot(id, out int slot) && (matches is null || matches.Contains((uint)slot))
                        && (f.Predicate is null || f.Predicate(id, PayloadAt(slot))))
                        filter.Add(slot);
                return filter;
            }
            if (matches is null)
            {
                if (f.Predicate is null) throw new InvalidArgumentException("a search filter needs ids, a where expression or a predicate");
                foreach (int slot in _slots.LiveSlots())
                    if (f.Predicate(_slots.Ids[slot], PayloadAt(slot))) filter.Add(slot);
                return filter;
            }
            int count = (int)matches.Count;
            var buffer = System.Buffers.ArrayPool<uint>.Shared.Rent(Math.Max(1, count));
            try
            {
                matches.CopyTo(buffer.AsSpan(0, count));
                if (f.Predicate is null) filter.AddMany(buffer.AsSpan(0, count));
                else
                    foreach (uint slot in buffer.AsSpan(0, count))
                        if (f.Predicate(_slots.Ids[slot], PayloadAt((int)slot))) filter.Add((int)slot);
            }
            finally { System.Buffers.ArrayPool<uint>.Shared.Return(buffer); }
            return filter;
        }
        catch
        {
            filter.Dispose();
            throw;
        }
    }

    /// <summary>Sizes and state.</summary>
    public CollectionStats GetStats()
    {
        _lock.EnterReadLock();
        try
        {
            return new CollectionStats
            {
                Count = _slots.Count,
                Dimension = Options.Dimension,
                Trained = _index is not null,
                CodeSize = _index?.Codec.CodeSize ?? 0,
                IndexBytes = _index?.MemoryBytes ?? 0,
                RerankBytes = (long)_slots.Count * Options.Dimension * sizeof(float),
                ResidentBytes = ResidentBytesLocked(),
                DiskBytes = _journal.DiskBytes(),
                RawVectors = Options.RawVectors!.Value,
                Compression = _index?.Codec.Spec ?? _current.Compression.ToString(),
                Index = _index?.Spec ?? _current.IndexSpec.ToString(),
                Generation = _current.Number,
                TrainingError = TrainingError,
            };
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>
    /// What this collection holds in memory, derived from its allocations: index and codes, the id map
    /// (<see cref="IdMap"/>), the live bitmap, and the rows' resident copy (vectors, payloads) or buffer with the location table.
    /// </summary>
    private long ResidentBytesLocked()
    {
        long generations = 0;
        foreach (var g in _generations) generations += g.MemoryBytes;
        return generations + (_fields?.MemoryBytes ?? 0) + _slots.MemoryBytes + _raw.ResidentBytes;
    }

    private bool _closed;

    private void ThrowIfClosed() => ObjectDisposedException.ThrowIf(_closed, this);

    /// <summary>
    /// Called by the database when it closes: every later call throws <see cref="ObjectDisposedException"/> and the
    /// segment mappings are released (under the write lock, so no search is reading them).
    /// </summary>
    internal void Close()
    {
        _lock.EnterWriteLock();
        try
        {
            _closed = true;
            foreach (var g in _generations) g.Cancel.Cancel();
            _canary?.Stop();
            _raw.Dispose();
            _fields?.Dispose();
        }
        finally { _lock.ExitWriteLock(); }
    }

    private sealed class SearchScratch(int dimension)
    {
        public float[] Query { get; } = new float[dimension];
        public TopK Heap { get; } = new(16);
        public SearchStats Stats { get; set; }
        public int[] SlotBuffer { get; private set; } = new int[16];
        public float[] DistBuffer { get; private set; } = new float[16];

        private float[] _batchQueries = [];
        private TopK[] _batchHeaps = [];

        /// <summary>Room for <paramref name="rows"/> prepared queries of a batch, and a candidate heap for each.</summary>
        public (float[] Queries, TopK[] Heaps) Batch(int rows)
        {
            if (_batchQueries.Length < rows * dimension) _batchQueries = new float[rows * dimension];
            if (_batchHeaps.Length < rows)
            {
                int had = _batchHeaps.Length;
                Array.Resize(ref _batchHeaps, rows);
                for (int i = had; i < rows; i++) _batchHeaps[i] = new TopK(16);
            }
            return (_batchQueries, _batchHeaps);
        }

        public Span<int> Slots(int n)
        {
            if (SlotBuffer.Length < n) SlotBuffer = new int[n];
            return SlotBuffer;
        }

        public Span<float> Dists(int n)
        {
            if (DistBuffer.Length < n) DistBuffer = new float[n];
            return DistBuffer;
        }
    }
}
