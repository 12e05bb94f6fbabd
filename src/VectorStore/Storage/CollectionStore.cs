using VectorStore.Memory;

namespace VectorStore.Storage;

/// <summary>Storage tuning; defaults suit production, tests shrink them.</summary>
internal sealed record StorageSettings
{
    /// <summary>FASTER log sizes.</summary>
    public WalSettings Wal { get; init; } = new();

    /// <summary>Log bytes appended since the last snapshot that trigger a new one. Default 512 MiB.</summary>
    public long SnapshotAfterLogBytes { get; init; } = 512L << 20;

    /// <summary>
    /// Free bytes the database's file system must keep: writes are refused with <see cref="StorageFullException"/>
    /// below it (<see cref="DatabaseOptions.MinFreeDiskBytes"/>). Default 0 (no reserve; the database sets it).
    /// </summary>
    public long MinFreeBytes { get; init; }

    /// <summary>
    /// Bytes of buffered (not yet sealed) full-precision vectors that trigger a checkpoint in disk residency, for each
    /// collection and, through <see cref="Buffers"/>, for all the database's collections together (then the collections
    /// holding at least an even share of it seal theirs). Writes continue while the background checkpoint runs, up to
    /// <see cref="StallFactor"/> times this: past that a writer's acknowledgement waits for the checkpoint (a write
    /// stall, at most <see cref="MaxWriteStall"/> per write, none while checkpoints fail), so when writes outrun the disk the buffer stays near
    /// that bound (plus the batches of the writers in flight). Default <see cref="DefaultBufferedBytes"/>:
    /// 64 MiB, less under a memory limit.
    /// </summary>
    public long CheckpointAfterBufferedBytes { get; init; } = DefaultBufferedBytes(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);

    /// <summary>
    /// The default bound on buffered vectors for a process whose garbage collector may use
    /// <paramref name="availableBytes"/> (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>: the heap hard limit,
    /// which .NET sets to 75 % of a container's memory limit, or else the machine's memory): 64 MiB, but at most a
    /// sixteenth of what the heap may hold, and at least 4 MiB. The buffer holds vectors a second time beside their
    /// codes until a checkpoint seals them, and a database's peak during a load is what a memory limit must cover: in a
    /// 420 MiB container a fixed 64 MiB was a fifth of the heap (notes/memory-caps.md). A smaller buffer only means
    /// smaller, more frequent checkpoints. Zero or less (not known): 64 MiB.
    /// </summary>
    public static long DefaultBufferedBytes(long availableBytes) =>
        availableBytes <= 0 ? 64L << 20 : Math.Clamp(availableBytes / 16, 4L << 20, 64L << 20);

    /// <summary>
    /// How many times <see cref="CheckpointAfterBufferedBytes"/> a collection (or the database's collections together)
    /// may buffer before writers wait for the running checkpoint. Two lets one buffer's worth of writes continue while
    /// the previous one is sealed, the way a log-structured store keeps one memtable filling while another flushes.
    /// Without the stall a sustained load held 130 MB against a 64 MiB trigger, and when writes outran the disk each
    /// checkpoint started with more to seal than the last.
    /// </summary>
    public const int StallFactor = 2;

    /// <summary>
    /// The longest one write is held by a write stall (<see cref="StallFactor"/>). A checkpoint also waits for a backup's
    /// copy or a compaction holding the snapshot gate, and a writer held past that (a cluster replica's apply, a client's
    /// request timeout) would fail for a reason that is not its own; past it the buffer grows until the checkpoint runs.
    /// Default 10 s.
    /// </summary>
    public TimeSpan MaxWriteStall { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Called on the background checkpoint's thread before it starts (tests hold a checkpoint with it). Default null.</summary>
    public Action? BeforeBackgroundCheckpoint { get; init; }

    /// <summary>The database's stores, for the shared bound on buffered vectors (set by the database when it opens; null: per collection only).</summary>
    public BufferLedger? Buffers { get; init; }

    /// <summary>
    /// Quiet time after the last write before a background checkpoint covers what the last one does not
    /// (<see cref="DatabaseOptions.CheckpointWhenIdle"/>, which the database sets when it opens). Zero or infinite:
    /// never. Default zero.
    /// </summary>
    public TimeSpan CheckpointWhenIdle { get; init; }

    /// <summary>
    /// A flat or IVF index is written to a new index file (data-format.md §4.10) only once more than this fraction of
    /// the live vectors (and more than 4,096) changed since the last one; checkpoints in between name the old file and
    /// the changed slots, which a reopen re-adds. Bounds both the replay at open and the rewrite cost per changed
    /// vector (about 1/fraction times its index entry). Default 1/16: re-adding a changed slot costs about what ingesting
    /// it did (encode, assign), so at 1/16 a reopen replays at most a sixteenth of an ingest. 0 writes a new file at every
    /// checkpoint. HNSW follows <see cref="IndexChangeImageFraction"/> instead.
    /// </summary>
    public double IndexRewriteFraction { get; init; } = 0.0625;

    /// <summary>
    /// An HNSW index is written to a new index file only once the nodes changed since its last one (the change image
    /// every snapshot carries instead of the graph, data-format.md §3.4) would take more than max(1 MiB, this fraction
    /// of that file's bytes). A checkpoint so writes at most this fraction of the graph, and a reopen applies the image
    /// without inserting anything again. The image grows with each checkpoint until the rewrite, so the bytes written
    /// per checkpoint are lowest near sqrt(2 × image per checkpoint / graph): 1/4 suits checkpoints that each change a
    /// few percent of the graph. Default 1/4; 0 writes a new file at every checkpoint.
    /// </summary>
    public double IndexChangeImageFraction { get; init; } = 0.25;

    /// <summary>
    /// The per-slot state (live bitmap, ids, segment locations, field values; about 24 bytes a slot) is written to a new
    /// slot file (data-format.md §4.11) only once the entries of the slots changed since the last one would take more
    /// than max(4,096 entries, this fraction of that file's bytes); checkpoints in between name the file and carry those
    /// entries. Default 1/4; 0 writes a new file at every checkpoint.
    /// </summary>
    public double SlotChangeFraction { get; init; } = 0.25;
}

/// <summary>
/// The durable side of one collection: its directory, write-ahead log, snapshots and recovery. Implements
/// <see cref="ICollectionJournal"/>: appends run under the collection's write lock; <see cref="WaitDurable"/> runs
/// outside it and commits for every writer that appended before it (group commit).
/// Thread-safety: journal methods as above; <see cref="Checkpoint"/> is serialized by an internal gate and may run
/// concurrently with writers and searches. Automatic checkpoints (log or buffer threshold crossed) run on a
/// background task, so no acknowledgement waits for one unless writes outran it past the stall bound
/// (<see cref="StorageSettings.StallFactor"/>); <see cref="Dispose"/> waits for a running one.
/// </summary>
internal sealed partial class CollectionStore : ICollectionJournal, IDisposable
{
    private readonly FasterWriteAheadLog _wal;
    private readonly StorageSettings _settings;
    private readonly Action<ManifestCollection> _publish;
    private readonly object _snapshotGate = new();
    private ManifestCollection _entry;
    private IJournaledState? _collection;
    private int _autoSnapshotRunning;
    private Task _background = Task.CompletedTask;
    private readonly object _backgroundGate = new();
    private volatile bool _disposed;

    private CollectionStore(string directory, ManifestCollection entry, FasterWriteAheadLog wal, StorageSettings settings, Action<ManifestCollection> publish)
    {
        Directory = directory;
        _entry = entry;
        _wal = wal;
        _settings = settings;
        _publish = publish;
    }

    /// <summary>The collection's directory.</summary>
    public string Directory { get; }

    /// <summary>The manifest entry as last published.</summary>
    public ManifestCollection Entry => Volatile.Read(ref _entry);

    /// <summary>The log (for tests that damage or inspect it).</summary>
    internal FasterWriteAheadLog Wal => _wal;

    /// <summary>Creates the directory and an empty log for a new collection.</summary>
    public static CollectionStore Create(string directory, ManifestCollection entry, StorageSettings settings, Action<ManifestCollection> publish)
    {
        if (System.IO.Directory.Exists(directory)) System.IO.Directory.Delete(directory, recursive: true);
        System.IO.Directory.CreateDirectory(directory);
        CollectionDescriptor.Write(directory, entry);
        var wal = FasterWriteAheadLog.Open(Path.Combine(directory, "wal"), settings.Wal, create: true);
        try
        {
            FileDurability.FsyncDirectory(Path.Combine(directory, "wal"));
            FileDurability.FsyncDirectory(directory);
            FileDurability.FsyncDirectory(Path.GetDirectoryName(directory)!);
            return new CollectionStore(directory, entry, wal, settings, publish);
        }
        catch
        {
            // A failed create leaves nothing open (the caller deletes the directory); the fsync's error is the one to report.
            Closing.All($"{directory}: after a failed create", wal);
            throw;
        }
    }

    /// <summary>Opens an existing collection's log (recovery happens in <see cref="Recover"/>).</summary>
    public static CollectionStore Open(string directory, ManifestCollection entry, StorageSettings settings, Action<ManifestCollection> publish)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new StoreCorruptedException(directory, $"directory of collection '{entry.Name}' is missing");
        var wal = FasterWriteAheadLog.Open(Path.Combine(directory, "wal"), settings.Wal, create: false);
        return new CollectionStore(directory, entry, wal, settings, publish);
    }

    /// <summary>Loads the snapshot named in the manifest, then replays the log after it into <paramref name="collection"/>.</summary>
    public void Recover(IJournaledState collection)
    {
        _collection = collection;
        _settings.Buffers?.Add(this);
        long from = LogReplay.RestoreSnapshot(collection, Directory, _entry, _wal.BeginAddress, _wal.NewestCommitFile() ?? _wal.DurableTailPath, _wal.Truncated, out bool legacy);
        LogReplay.Run(collection, _wal, from);
        RemoveOrphans();
        // A previous-format snapshot carried the vectors itself: they are buffered now; sealing them into a segment
        // and publishing a current-format snapshot completes the migration (the old snapshot is deleted after). A
        // previous-format (unframed) log migrates the same way: the checkpoint's truncation empties it and switches
        // it to the framed format before anything is appended.
        if (legacy || !_wal.Framed) Checkpoint();
        // Rows replayed from the log are buffered like new writes: they leave memory after the same quiet period.
        else if (Dirty) NoteWriteForIdleCheckpoint();
    }

    /// <summary>
    /// Deletes snapshots, segments, index, slot, drift baseline, drift reservoir and tuning queries files no published snapshot names
    /// (a half-written *.tmp, the predecessor of a published snapshot, files a crash left unpublished, segments a
    /// merge retired, files a newer one replaced).
    /// </summary>
    private void RemoveOrphans()
    {
        var keep = new HashSet<string>(_collection?.DataFileNames() ?? []);
        if (_entry.Snapshot is { } snap) keep.Add(snap);
        bool removed = false;
        foreach (var f in System.IO.Directory.EnumerateFiles(Directory))
        {
            string name = Path.GetFileName(f);
            if ((name.StartsWith("snap-", StringComparison.Ordinal) || name.StartsWith("seg-", StringComparison.Ordinal) || name.StartsWith("idx-", StringComparison.Ordinal)
                    || name.StartsWith("slots-", StringComparison.Ordinal) || name.StartsWith("drift-", StringComparison.Ordinal)
                    || name.StartsWith(TuningQueriesFile.Prefix, StringComparison.Ordinal) || name.StartsWith(DriftReservoirFile.Prefix, StringComparison.Ordinal))
                && !keep.Contains(name))
            {
                File.Delete(f);
                removed = true;
            }
        }
        if (removed) FileDurability.FsyncDirectory(Directory);
    }

    /// <inheritdoc />
    public long AppendUpserts(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads, IReadOnlyList<byte[]?>? fields, long[]? rowTickets = null)
    {
        ThrowIfDisposed();
        int row = 0;
        return LogRecords.WriteUpserts(ids, vectors, payloads, fields, _settings.Wal.MaxEntryBytes, entry =>
        {
            long ticket = Append(entry);
            int rows = LogRecords.UpsertChunkCount(entry);
            rowTickets?.AsSpan(row, rows).Fill(ticket);
            row += rows;
            return ticket;
        });
    }

    /// <inheritdoc />
    public long AppendDelete(ulong id)
    {
        ThrowIfDisposed();
        return Append(LogRecords.Delete(id));
    }

    /// <inheritdoc />
    public long AppendBuildIndex()
    {
        ThrowIfDisposed();
        return Append(LogRecords.BuildIndex());
    }

    /// <inheritdoc />
    public long AppendGeneration(GenerationRecord record)
    {
        ThrowIfDisposed();
        return Append(LogRecords.Generation(record));
    }

    // A ticket is the log address just past the entry, tagged with the log's epoch (FasterWriteAheadLog.Failure.cs):
    // after the log is reopened following a failed write, the same addresses name other entries. FASTER's logical
    // addresses have 48 bits.
    private const int EpochShift = 48;
    private const long AddressMask = (1L << EpochShift) - 1;

    private long Append(ReadOnlySpan<byte> entry) => Ticket(_wal.Resets, _wal.Append(entry));

    private static long Ticket(long epoch, long address) => (epoch << EpochShift) | address;

    /// <summary>Whether the entries up to <paramref name="ticket"/> are durable; throws the failure that lost them.</summary>
    private bool IsDurable(long ticket, out long epoch, out long address)
    {
        epoch = ticket >>> EpochShift;
        address = ticket & AddressMask;
        if (_wal.DurableIn(epoch) >= address) return true;
        if (epoch != _wal.Resets) throw _wal.FailureOf(epoch);
        return false;
    }

    /// <inheritdoc />
    public bool CanFail => true;

    /// <inheritdoc />
    public bool Failed => _wal.Failed;

    /// <inheritdoc />
    public long DurableTicket
    {
        get
        {
            long epoch = _wal.Resets;
            return Ticket(epoch, _wal.DurableIn(epoch));
        }
    }

    /// <inheritdoc />
    public bool IsDurable(long ticket) => _wal.DurableIn(ticket >>> EpochShift) >= (ticket & AddressMask);

    /// <inheritdoc />
    public long ResetAfterFailure()
    {
        ThrowIfDisposed();
        long epoch = _wal.Resets;
        // Not under the snapshot gate: a checkpoint holds it while it waits for the collection's lock, which the
        // caller holds. A checkpoint that straddles the reset is refused by its epoch check (CheckpointCore).
        return Ticket(epoch, _wal.ResetAfterFailure());
    }

    /// <summary>
    /// Refuses a write while the database's file system has less free space than the reserve, so the snapshots and
    /// checkpoints that compact the log can still be written.
    /// </summary>
    public void CheckWritable(string operation)
    {
        if (_settings.MinFreeBytes <= 0) return;
        long free = FileSpace.AvailableBytes(Directory);
        if (free < _settings.MinFreeBytes)
            throw new StorageFullException(Directory,
                $"only {free} bytes are free on the database's file system, below the reserve of {_settings.MinFreeBytes} bytes " +
                $"(DatabaseOptions.MinFreeDiskBytes) kept so snapshots and checkpoints can complete; {operation} refused, nothing changed; free space and retry");
    }

    /// <inheritdoc />
    bool ICollectionJournal.Checkpoint()
    {
        ThrowIfDisposed();
        Checkpoint();
        return true;
    }

    // Names the collection's directory and why, not this internal type: the message reaches the application.
    private void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException(Directory, "the collection's files are closed (its database was disposed, or the collection dropped)");
    }

    /// <inheritdoc />
    public void WaitDurable(long ticket)
    {
        // Refused here before any bookkeeping; the write-ahead log itself never lets a commit reach a disposed FASTER
        // log (FasterWriteAheadLog checks under its commit gate), so a close racing this call also ends in
        // ObjectDisposedException rather than a spin.
        ThrowIfDisposed();
        if (!IsDurable(ticket, out long epoch, out long address))
        {
            // Joins the group commit (the one BeginDurable started, or a new one) and blocks until it completes. Not
            // FASTER's synchronous WaitForCommit: that spins, and writers spinning on thread-pool threads took the
            // CPU and the threads FASTER's flush completion needs (notes/issue-19-throughput.md); a blocked pool
            // thread is one the pool knows to replace.
            _wal.CommitAsync(address, epoch, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            // The log may have been reopened (a new epoch) between the check and the commit.
            if (!IsDurable(ticket, out _, out _)) throw _wal.FailureOf(ticket >>> EpochShift);
        }
        StartCheckpointIfDue();
        NoteWriteForIdleCheckpoint();
        if (OverStallBound()) WaitForBufferRoom();
    }

    private long _earlyCommits;

    /// <summary>Commits <see cref="BeginDurable"/> left in flight for a writer to join later (tests check the overlap happens).</summary>
    internal long EarlyCommits => Interlocked.Read(ref _earlyCommits);

    /// <inheritdoc />
    public void BeginDurable(long ticket)
    {
        if (_disposed) return;
        try
        {
            if (IsDurable(ticket, out long epoch, out long address)) return;
            var commit = _wal.CommitAsync(address, epoch, CancellationToken.None);
            if (commit.IsCompleted)
            {
                commit.GetAwaiter().GetResult();
                return;
            }
            Interlocked.Increment(ref _earlyCommits);
            // The waiter sees a failure through its own call; this only keeps it from going unobserved.
            commit.AsTask().ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        catch (Exception e) when (e is VectorStoreException or ObjectDisposedException)
        {
            // WaitDurable reports the failure (and the collection undoes what it lost).
        }
    }

    /// <summary>Starts a background checkpoint when the log or the vector buffer crossed its threshold.</summary>
    private void StartCheckpointIfDue()
    {
        long buffered = BufferedBytes;
        bool due = _wal.TailAddress - Entry.SnapshotLogAddress >= _settings.SnapshotAfterLogBytes
            || buffered >= _settings.CheckpointAfterBufferedBytes
            || _settings.Buffers?.SharedLimitReached(buffered, _settings.CheckpointAfterBufferedBytes) == true;
        if (due) StartBackgroundCheckpoint();
    }

    /// <summary>Bytes of full-precision vectors (and payloads) the collection buffers until its next checkpoint.</summary>
    public long BufferedBytes => _collection?.BufferedBytes ?? 0;

    /// <summary>Starts a checkpoint on a background task; false when one is already running or the store is closed.</summary>
    private bool StartBackgroundCheckpoint()
    {
        StartOrJoinBackgroundCheckpoint(out bool started);
        return started;
    }

    /// <summary>
    /// The running background checkpoint, or a new one started when none runs (<paramref name="started"/>); null once
    /// the store is closed. The running flag and the task are set together under the gate Dispose reads the task
    /// under, so a close never misses a checkpoint that is just starting (it would run on against the closed log), and
    /// a writer that finds the flag set finds that checkpoint's task, not the previous one's.
    /// </summary>
    private Task? StartOrJoinBackgroundCheckpoint(out bool started)
    {
        started = false;
        lock (_backgroundGate)
        {
            if (_disposed) return null;
            if (Interlocked.Exchange(ref _autoSnapshotRunning, 1) != 0) return _background;
            started = true;
            var before = _settings.BeforeBackgroundCheckpoint;
            _background = Task.Run(() =>
            {
                t_onBackgroundCheckpoint = true;
                try
                {
                    before?.Invoke();
                    if (!_disposed)
                    {
                        Checkpoint();
                        NoteCheckpointSucceeded();
                        Volatile.Write(ref _lastBackgroundCheckpointFailed, false);
                        ReleaseLogBufferIfQuiet();
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException or VectorStoreException)
                {
                    // The log still holds everything; the next threshold crossing, quiet period (or close) tries again.
                    LastCheckpointError = e;
                    Volatile.Write(ref _lastBackgroundCheckpointFailed, true);
                    RetryIdleCheckpointLater();
                }
                catch
                {
                    // Any other failure (out of memory, say) faults the task as before; writers stop stalling on it.
                    Volatile.Write(ref _lastBackgroundCheckpointFailed, true);
                    throw;
                }
                finally
                {
                    t_onBackgroundCheckpoint = false;
                    Volatile.Write(ref _autoSnapshotRunning, 0);
                }
            });
            return _background;
        }
    }

    private bool _lastBackgroundCheckpointFailed;

    /// <summary>Set on a background checkpoint's thread: a write it makes must never wait for the checkpoint itself.</summary>
    [ThreadStatic]
    private static bool t_onBackgroundCheckpoint;

    /// <summary>Whether this collection's buffer, or the database's buffers together, passed the stall bound.</summary>
    private bool OverStallBound()
    {
        long buffered = BufferedBytes;
        if (buffered == 0 || t_onBackgroundCheckpoint) return false;
        long stallAt = _settings.CheckpointAfterBufferedBytes * StorageSettings.StallFactor;
        return buffered >= stallAt || _settings.Buffers?.SharedLimitReached(buffered, stallAt) == true;
    }

    /// <summary>How often a writer waited for a checkpoint to make room in the buffer (write stalls; tests).</summary>
    internal long WriteStalls => Interlocked.Read(ref _writeStalls);

    private long _writeStalls;

    /// <summary>
    /// Holds a writer whose write left the buffer past the stall bound until a checkpoint sealed it
    /// (<see cref="StorageSettings.StallFactor"/>). The write is applied and durable already; only its acknowledgement
    /// waits, for at most <see cref="StorageSettings.MaxWriteStall"/>. No writer is held while checkpoints fail (the last one failed, or the
    /// one waited for faulted): the log holds everything, and holding each write for a checkpoint that fails again would
    /// stop the writers instead of one retried checkpoint. A close ends the wait too.
    /// </summary>
    private void WaitForBufferRoom()
    {
        long deadline = Environment.TickCount64 + (long)_settings.MaxWriteStall.TotalMilliseconds;
        for (int round = 0; round < MaxStallRounds && NextStall(deadline, out var running, out var left); round++)
        {
            try
            {
                if (!running.Wait(left)) return;
            }
            catch (AggregateException) { return; /* the checkpoint's own failure: the write that waited succeeded */ }
        }
    }

    /// <inheritdoc cref="WaitForBufferRoom"/>
    private async ValueTask WaitForBufferRoomAsync(CancellationToken cancellationToken)
    {
        long deadline = Environment.TickCount64 + (long)_settings.MaxWriteStall.TotalMilliseconds;
        for (int round = 0; round < MaxStallRounds && NextStall(deadline, out var running, out var left); round++)
        {
            try { await running.WaitAsync(left, cancellationToken).ConfigureAwait(false); }
            catch (Exception e) when (e is not OperationCanceledException) { return; /* timed out, or as above */ }
        }
    }

    /// <summary>
    /// One round of a stall: false when the writer goes on (under the bound, the last checkpoint failed, the store
    /// closed, or <paramref name="deadline"/> passed); otherwise the checkpoint to wait for (started if none runs) and
    /// how long to wait for it at most.
    /// </summary>
    private bool NextStall(long deadline, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Task? running, out TimeSpan left)
    {
        left = TimeSpan.Zero;
        running = StallAgain() ? StartOrJoinBackgroundCheckpoint(out _) : null;
        if (running is null) return false;
        Interlocked.Increment(ref _writeStalls);
        long ms = deadline - Environment.TickCount64;
        left = TimeSpan.FromMilliseconds(ms);
        return ms > 0;
    }

    /// <summary>Still over the bound, and the last checkpoint did not fail.</summary>
    private bool StallAgain() => !Volatile.Read(ref _lastBackgroundCheckpointFailed) && OverStallBound();

    /// <summary>
    /// Checkpoints one stalled writer waits for at most: each seals what was buffered when it started, so a writer still
    /// over the bound after one waits for the next, but no writer is held for an unbounded run of them.
    /// </summary>
    private const int MaxStallRounds = 4;

    /// <summary>How long after a checkpoint its log buffer is released a second time.</summary>
    private static readonly TimeSpan LogBufferSettleDelay = TimeSpan.FromSeconds(1);

    /// <summary>
    /// After a checkpoint no write raced: the log is quiet, and its page buffer mostly zeros, so they go back to the
    /// system (<see cref="FasterWriteAheadLog.ReleaseUnusedBuffer"/>). The checkpoint's truncation lets FASTER close the
    /// pages before the tail on its own thread a moment later, and closing a page clears it, which faults all of it in
    /// again: so once more a second later.
    /// </summary>
    private void ReleaseLogBufferIfQuiet()
    {
        if (!ReleaseLogBufferNowIfQuiet()) return;
        TransientBuffers.Release();
        using (ExecutionContext.SuppressFlow())
        {
            _ = Task.Delay(LogBufferSettleDelay).ContinueWith(static (_, state) => ((CollectionStore)state!).ReleaseLogBufferNowIfQuiet(),
                this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>The log buffer's zero pages back to the system unless a write waits for a checkpoint or the store closed.</summary>
    private bool ReleaseLogBufferNowIfQuiet()
    {
        try
        {
            if (_disposed || Dirty) return false;
            _wal.ReleaseUnusedBuffer();
            return true;
        }
        catch (ObjectDisposedException) { return false; /* closed meanwhile */ }
    }

    /// <summary>Why the last background checkpoint failed, or null.</summary>
    public Exception? LastCheckpointError { get; private set; }

    /// <summary>Waits for a background checkpoint in progress (tests, close).</summary>
    public void WaitForBackgroundCheckpoint() => _background.Wait();

    /// <summary>Whether the log holds records the current snapshot does not cover, or the collection state no record carries.</summary>
    public bool Dirty => _wal.TailAddress > Math.Max(Entry.SnapshotLogAddress, _wal.BeginAddress) || (Entry.Snapshot is null && _collection?.Count > 0)
        || (_collection?.BufferedBytes ?? 0) > 0 || (_collection?.UnloggedChanges ?? false);

    /// <summary>
    /// Checkpoint + truncate: seals the buffered vectors into a new segment (merging segments with dead rows),
    /// writes a snapshot naming the segments, makes the log durable up to the address it covers, publishes it in the
    /// manifest, deletes the previous snapshot and unreferenced segments, and truncates the log before that address.
    /// With <paramref name="compact"/> every segment holding a dead row is rewritten, reclaiming all the space of
    /// deleted and overwritten vectors.
    /// </summary>
    private void CheckpointCore(bool compact)
    {
        var collection = _collection ?? throw new InvalidOperationException("store has no collection attached");
        // A failed log first undoes what it lost, or the snapshot could not be published (and the close would fail).
        if (_wal.Failed) collection.RecoverAfterStorageFailure();
        lock (_snapshotGate)
        {
            var old = Entry;
            long seq = old.SnapshotSequence + 1;
            string name = $"snap-{seq:D10}.vss";
            long epoch = _wal.Resets;
            long address = collection.WriteSnapshot(Path.Combine(Directory, name), _wal, compact, _settings);
            // The snapshot may include records appended but not yet committed; commit them before publishing. If the
            // log failed meanwhile, it may hold writes that were undone: it is never published then.
            if (_wal.CommittedAddress < address) _wal.Commit();
            if (_wal.Resets != epoch) throw _wal.FailureOf(epoch);
            var next = old with { Snapshot = name, SnapshotLogAddress = address, SnapshotSequence = seq };
            _publish(next);
            Volatile.Write(ref _entry, next);
            collection.AfterPublish();
            RemoveOrphans();
            _wal.TruncateBefore(address);
        }
    }

    /// <summary>Commits every record appended so far (a no-op when the log is already durable up to its tail).</summary>
    public void Flush()
    {
        try { _wal.Commit(); }
        catch (Exception e) when (e is StorageFullException or StorageIoException)
        {
            // Nobody may be waiting for the writes that failed (a cancelled wait): undo them now.
            _collection?.RecoverAfterStorageFailure();
            throw;
        }
    }

    /// <summary>Bytes the file system allocates for every file of the collection (holes punched into the log's truncated prefix are not counted).</summary>
    public long DiskBytes()
    {
        // FASTER deletes log segments behind the begin address lazily (after a later commit); they are garbage already.
        return FileSpace.DirectoryBytes(Directory, new HashSet<string>(_wal.SegmentsBefore(_wal.BeginAddress)));
    }

    /// <inheritdoc />
    long ICollectionJournal.DiskBytes() => DiskBytes();

    /// <inheritdoc />
    public void Dispose()
    {
        Task background;
        lock (_backgroundGate)
        {
            _disposed = true;
            background = _background;
            _idleTimer?.Dispose();
        }
        try { background.Wait(); }
        catch (AggregateException) { }
        _settings.Buffers?.Remove(this);
        lock (_snapshotGate) _wal.Dispose();
    }
}
