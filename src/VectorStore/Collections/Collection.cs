using VectorStore.Filtering;
using VectorStore.Indexing;
using VectorStore.Quantization;
using VectorStore.Ranking;
using VectorStore.Storage;
using VectorStore.Telemetry;
using VectorStore.Threading;

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
    // The query path below the lock (filter plan, index, re-rank, hits) and each thread's search buffers.
    private readonly SearchPipeline _search;
    // Training and building indexes from the stored vectors, below the lock (the collection decides when).
    private readonly IndexBuilder _builder;
    private readonly ICollectionJournal _journal;
    // Declared fields with their indexes; null when the collection declares none.
    private readonly FieldIndex? _fields;
    // The in-RAM second stage (CollectionOptions.Refine), trained with the index; null without one or before training.
    private readonly CompressionSpec? _refineSpec;
    private int _rebalanceQueued;
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
        if (options.Fields is { Count: > 0 } fields) _fields = new FieldIndex(fields.ToArray());
        _search = new SearchPipeline(Options, _slots, _raw, _fields, TunedForSearch);
        if (options.Refine is { } refine) _refineSpec = CompressionSpec.Parse(refine);
        _builder = new IndexBuilder(options.Dimension, options.Metric, options.Seed, options.MaxTrainingSample, _refineSpec, threads, _slots, _raw);
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
        if (!log)
        {
            // Replayed at open: the sensors take the batch in (they saw it before the crash, after the snapshot's
            // reservoir), but nothing acts on it until the open is over. The drift ladder declared a generation from
            // here, appending to the log in the middle of its recovery: the open then refused the log ("appended
            // again at …") and kept writing to it with each attempt (notes/issue-16-drift.md, 2026-12-07).
            _current.Drift?.Observe(prepared);
            return;
        }
        WaitDurable(ticket);
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
        // From the log append on (from the first row when replaying), a failure leaves memory behind the log: fail-stop.
        bool applying = !log;
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
                CheckCapacityLocked(ids);
                long[]? rowTickets = _journal.CanFail ? new long[ids.Count] : null;
                ticket = _journal.AppendUpserts(ids, prepared, payloads, fieldRecords, rowTickets);
                applying = true;
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
        catch (Exception e) when (applying)
        {
            throw Fault(e);
        }
        finally
        {
            if (writing) _lock.ExitWriteLock();
            _lock.ExitUpgradeableReadLock();
        }
        return ticket;
    }

    /// <summary>
    /// Refuses, before anything is logged, a batch an index cannot hold (<see cref="VectorIndex.CheckRoom"/>): logged
    /// and then failing to apply, it would fail again at every replay. Write lock held, journal recovered.
    /// </summary>
    private void CheckCapacityLocked(IReadOnlyList<ulong> ids)
    {
        long highWater = _slots.HighWaterAfter(ids);
        _index?.CheckRoom(highWater, ids.Count);
        foreach (var g in _attached) g.Index?.CheckRoom(highWater, ids.Count);
    }

    /// <summary>
    /// Stores a batch's rows in their slots (new ids get free ones): raw vectors, refine codes, payloads, fields, the
    /// pending-build list; indexes only lose the replaced rows (the caller adds the batch). Write lock held.
    /// </summary>
    private int[] PlaceRowsLocked(IReadOnlyList<ulong> ids, VectorMatrix prepared, IReadOnlyList<byte[]?>? payloads, IReadOnlyList<byte[]?>? fieldRecords)
    {
        _search.InvalidateFilters();
        var slots = new int[ids.Count];
        for (int i = 0; i < ids.Count; i++)
        {
            int slot = _slots.Place(ids[i], out bool added);
            NoteChangedForTunings(slot);
            if (!added)
            {
                _index?.Remove(slot);
                foreach (var g in _attached) g.Index!.Remove(slot);
            }
            slots[i] = slot;
            _raw.Set(slot, prepared.Row(i), payloads?[i]);
            DuringApplyForTests?.Invoke(i);
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
            try
            {
                if (_journal.CanFail) RecordUndoLocked([id], [ticket]);
                ApplyDelete(id);
            }
            catch (Exception e)
            {
                throw Fault(e);
            }
            return true;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    internal bool ApplyDelete(ulong id)
    {
        if (!_slots.Remove(id, out int slot)) return false;
        NoteChangedForTunings(slot);
        _search.InvalidateFilters();
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
            return new VectorRecord(id, _raw.Get(slot).ToArray(), _raw.Payload(slot) ?? [])
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
                using var filter = _search.BuildFilter(new SearchFilter { Where = where });
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

    /// <summary>The statistics of this thread's last search on this collection (for <c>eval</c> and tests).</summary>
    internal SearchStats LastSearchStats => _search.Scratch.Stats;

    private SearchHit[] SearchCore(ReadOnlySpan<float> query, SearchOptions? options)
    {
        options ??= new SearchOptions();
        ValidateSearch(query.Length, options);
        var scratch = _search.Scratch;
        var q = scratch.Query;
        _search.PrepareQuery(query, q);
        PrepareTargetRecall(options);
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
            hits = _search.Search(q, options, scratch, served);
            if (canary is not null) ms = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        finally { _lock.ExitReadLock(); }
        if (canary is not null && served == _current) canary.Offer(q, options, hits, ms);
        return hits;
    }

    /// <summary><paramref name="threads"/> workers when positive, else the database's setting, else every core.</summary>
    private ParallelOptions Parallelism(int threads) => EngineParallel.Options(threads > 0 ? threads : _threads);

    private void ValidateSearch(int dimension, SearchOptions options)
    {
        if (dimension != Options.Dimension) ThrowDim(dimension);
        if (options.K is <= 0 or > SearchOptions.MaxK) throw new InvalidArgumentException($"k must be in 1..{SearchOptions.MaxK}, got {options.K}");
        if (options.Rerank is < 0 or > SearchOptions.MaxK) throw new InvalidArgumentException($"rerank must be in 0..{SearchOptions.MaxK}, got {options.Rerank}");
        if (options.Ef < 0 || options.NProbe < 0) throw new InvalidArgumentException("ef and nprobe must not be negative");
        if (!(options.TargetRecall is >= 0 and <= 1)) throw new InvalidArgumentException($"target recall must be in [0, 1], got {options.TargetRecall}");
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
                IndexBytes = _current.MemoryBytes,
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

    private void ThrowIfClosed()
    {
        ThrowIfFaulted();
        ObjectDisposedException.ThrowIf(_closed, this);
    }

    /// <summary>
    /// Called by the database when it closes: every later call throws <see cref="ObjectDisposedException"/> and the
    /// segment mappings are released (under the write lock, so no search is reading them).
    /// </summary>
    internal void Close()
    {
        _lock.EnterWriteLock();
        try
        {
            // A stopped collection whose reopening failed is closed again by the next attempt, or by the database's close.
            if (_closed) return;
            _closed = true;
            foreach (var g in _generations) g.Cancel.Cancel();
            _canary?.Stop();
            // The field bitmaps (native memory) are freed even when closing the segment files fails.
            var error = Closing.All($"closing collection '{Name}'", _raw, _fields);
            // A stopped collection is closed to be reopened, often for want of memory: its codes and graphs go now,
            // not when the last reference to this object does.
            if (Faulted)
                foreach (var g in _generations) (g.Index, g.Refine) = (null, null);
            Closing.ThrowIfFailed(error);
        }
        finally { _lock.ExitWriteLock(); }
    }
}
