using FASTER.core;

namespace VectorStore.Storage;

/// <summary>
/// A failed write of the log (a full disk, an I/O error). FASTER 2.6.5 fails the commit with an untyped
/// <c>CommitFailureException</c> and its <see cref="FasterLog"/> is unusable from then on: every later commit fails
/// too, and an append that needs a page the failed flush holds spins forever. So the first failure is recorded as a
/// typed error (<see cref="StorageFullException"/> / <see cref="StorageIoException"/>, naming the segment file);
/// appends and commits refuse with it at once; and <see cref="ResetAfterFailure"/> reopens FASTER in place at the
/// last durable address, after zeroing what lies past it, so the failed entries can never be recovered later (they
/// would continue the chain if a client retried the same batch). The owner undoes the failed entries in memory
/// (Collection.Undo.cs). Each reopening starts a new epoch: addresses past the old durable address are reused.
/// </summary>
internal sealed partial class FasterWriteAheadLog
{
    // The failure of the current epoch (null while the log works); only ever set once per epoch.
    private VectorStoreException? _failure;
    // The durable address at the end of each finished epoch, and the failure that ended it (indexed by epoch).
    private readonly List<(long Durable, VectorStoreException Failure)> _epochs = [];
    private bool _disposed;
    // What a failed reset attempt of the current epoch kept (0 when none failed); under the append and commit gates.
    private long _resetKeeps;

    /// <summary>Times the log was reopened after a failure; appends are tagged with it (see <see cref="DurableIn"/>).</summary>
    public long Resets
    {
        get { lock (_epochs) return _epochs.Count; }
    }

    /// <summary>Whether a write of the log failed and it refuses appends and commits until <see cref="ResetAfterFailure"/>.</summary>
    public bool Failed => Volatile.Read(ref _failure) is not null;

    /// <summary>
    /// Address up to which entries appended in <paramref name="epoch"/> are durable: the current durable address
    /// for the current epoch, the durable address at its failure for an earlier one.
    /// </summary>
    public long DurableIn(long epoch)
    {
        lock (_epochs)
        {
            if (epoch < _epochs.Count) return _epochs[(int)epoch].Durable;
        }
        return CommittedAddress;
    }

    /// <summary>A fresh copy (each thrower gets its own stack) of the failure that ended <paramref name="epoch"/>, or the current one.</summary>
    public VectorStoreException FailureOf(long epoch)
    {
        VectorStoreException? f;
        lock (_epochs) f = epoch < _epochs.Count ? _epochs[(int)epoch].Failure : _failure;
        return Copy(f ?? new StorageIoException(_directory, "the write-ahead log was reopened after a failed write"));
    }

    /// <summary>Refuses to touch FASTER's log once it is disposed (callers hold the append or the commit gate).</summary>
    /// <remarks>Names the log's directory and why, not this internal type: the message reaches the application.</remarks>
    private void ThrowIfDisposed()
    {
        if (_disposed) throw new ObjectDisposedException(_directory, "the collection's write-ahead log is closed (its database was disposed, or the collection dropped)");
    }

    private void ThrowIfFailed()
    {
        if (Volatile.Read(ref _failure) is { } f) throw Copy(f);
    }

    private static VectorStoreException Copy(VectorStoreException f) => f switch
    {
        StorageFullException full => new StorageFullException(full.Path, Problem(full), full.InnerException),
        StorageIoException io => new StorageIoException(io.Path, Problem(io), io.InnerException),
        _ => f,
    };

    private static string Problem(VectorStoreException e) => e.Message[(e.Message.IndexOf(": ", StringComparison.Ordinal) + 2)..];

    /// <summary>Records <paramref name="cause"/> as the log's failure (the first one wins) and returns a copy to throw.</summary>
    private VectorStoreException Fail(Exception cause)
    {
        Interlocked.CompareExchange(ref _failure, Classify(cause), null);
        return Copy(_failure!);
    }

    /// <summary>A commit FASTER completed although its data or its slot in <c>wal.commit</c> did not reach the disk.</summary>
    private sealed class CommitSlotFailure(string path, Exception inner)
        : IOException($"making the commit durable failed: {inner.Message}", inner)
    {
        public string Path { get; } = path;
    }

    private VectorStoreException Classify(Exception cause)
    {
        string path, doing, code;
        bool full;
        if (cause is CommitSlotFailure slot)
        {
            cause = slot.InnerException!;
            path = slot.Path;
            doing = "making the write-ahead log durable";
            full = FileSpace.IsNoSpace(cause);
            code = cause.Message;
        }
        else
        {
            var d = _device.Failure;
            path = d?.Path ?? SegmentPath(_syncedUntil);
            doing = d is null ? "writing the write-ahead log" : $"writing the write-ahead log ({d.Bytes} bytes at offset {d.Offset})";
            full = d?.ErrorCode == DeviceWriteFailure.NoSpace || FileSpace.IsNoSpace(cause)
                // FASTER's managed device reports every failure as uint.MaxValue; a write that no longer fits is ENOSPC.
                || (d is { ErrorCode: not DeviceWriteFailure.Io } && FileSpace.AvailableBytes(_directory) < d.Bytes + (1L << 20));
            code = d is null ? cause.Message : d.ErrorCode == DeviceWriteFailure.Io ? "EIO" : $"error code {d.ErrorCode}";
        }
        const string after = "; the writes since the last durable commit were not acknowledged and are undone";
        return full
            ? new StorageFullException(path, $"no space left on device (ENOSPC) {doing}{after}; writing continues once space is freed", cause)
            : new StorageIoException(path, $"I/O error ({code}) {doing}{after}; the log is reopened for the next write", cause);
    }

    /// <summary>
    /// FASTER's <c>Enqueue</c> without its endless wait: when no page is free because a flush failed, this refuses
    /// with the failure instead of spinning. Once a flush has failed FASTER may also throw its untyped
    /// <c>CommitFailureException</c> here (an entry larger than the free pages flushes them during the append); that
    /// becomes the log's typed failure too. Caller holds the append gate.
    /// </summary>
    private long Enqueue<T>(T entry) where T : ILogEnqueueEntry
    {
        long at;
        while (!TryEnqueue(entry, out at))
        {
            if (_device.Failure is not null) throw Fail(new IOException("a page of the log could not be flushed to make room for the entry"));
            ThrowIfFailed();
            Thread.Yield();
        }
        return at;
    }

    private bool TryEnqueue<T>(T entry, out long at) where T : ILogEnqueueEntry
    {
        try { return _log.TryEnqueue(entry, out at); }
        catch (Exception e) when (e is not VectorStoreException and not OutOfMemoryException)
        {
            throw Fail(e);
        }
    }

    /// <summary>
    /// Reopens the log after a failure at its last durable address and starts a new epoch; returns the durable
    /// address (entries appended past it are gone: the caller undoes them). A no-op returning the durable address
    /// when the log has not failed. Throws (leaving the log failed, so the next call tries again) when FASTER cannot
    /// be reopened; <see cref="StoreCorruptedException"/> when it recovers less than was acknowledged.
    /// Thread-safety: callers serialize it with their appends (the collection's write lock).
    /// </summary>
    public long ResetAfterFailure()
    {
        // The group commit in flight, if any, ended (or ends at once) with the failure; let it finish its bookkeeping.
        Task? group;
        lock (_asyncGate) group = _groupCommit;
        try { group?.Wait(TimeSpan.FromSeconds(30)); }
        catch (AggregateException) { }
        lock (_appendGate)
        lock (_commitGate)
        {
            if (_failure is null || _disposed) return _syncedUntil;
            // FASTER may have written commit metadata our wal.tail record missed (an error writing wal.tail): what it
            // committed is durable and is kept; only what no commit claimed is discarded.
            // Never less than an earlier attempt kept: once it disposed the commit manager, what FASTER's metadata may
            // claim is known only from that attempt.
            long keep = Math.Max(Math.Max(_syncedUntil, _commits?.AttemptedUntil ?? 0), _resetKeeps);
            _resetKeeps = keep;
            Close(_log, _device, _commits);
            DiscardPast(keep);
            var (log, device, commits) = Reopen();
            long recovered = log.CommittedUntilAddress;
            // Never zero what was acknowledged: if FASTER recovered less than that (its newest slot unreadable), the
            // entries stay for the read-past recovery of the reopen from files that the corruption error leads to.
            long floor = Math.Max(recovered, _syncedUntil);
            if (floor < keep)
            {
                // Entries were fsynced up to keep but the commit slot claiming them was not written: nothing claims
                // them, their writers were told the write failed, and a recovery reading past the committed address
                // would bring them back (they continue the chain). Zero them while nothing else has the log open.
                Close(log, device, commits);
                DiscardPast(floor);
                (log, device, commits) = Reopen();
                recovered = log.CommittedUntilAddress;
            }
            Attach(commits);
            _log = log;
            _device = device;
            _commits = commits;
            if (recovered < _syncedUntil)
                throw new StoreCorruptedException(NewestCommitFile() ?? _directory,
                    $"reopening the write-ahead log after a failed write recovered only up to address {recovered}, but {_syncedUntil} was acknowledged as durable");
            if (recovered > _syncedUntil)
            {
                try { PublishDurable(recovered, force: true); }
                catch (Exception e) when (e is not VectorStoreException and not OutOfMemoryException)
                {
                    // The log stays failed (the next attempt reopens FASTER again); the caller gets a typed error.
                    throw new StorageIoException(_tail.Path, $"reopening the write-ahead log after a failed write failed recording its durable tail: {e.Message}; the failed writes FASTER had committed may survive, which the collection's reopening from its files shows", e);
                }
            }
            lock (_unsyncedGate) _unsynced.Clear();
            _next = _durablePoint;
            _segmentsSyncedUntil = _syncedUntil;
            lock (_boundaryGate) _boundaries.RemoveAll(b => b.Address > _syncedUntil);
            lock (_epochs) _epochs.Add((_syncedUntil, _failure));
            _resetKeeps = 0;
            Volatile.Write(ref _failure, null);
            // The new log's buffer, cleared by FASTER, as at any open (FasterWriteAheadLog.Memory.cs).
            ReleaseUnusedBuffer();
            return _syncedUntil;
        }
    }

    /// <summary>Closes a FASTER log and what it ran on (FASTER's dispose of a failed log may throw: ignored).</summary>
    private static void Close(FasterLog log, WalDevice device, SlotCommitManager? commits)
    {
        try { DisposeFaster(log); }
        catch (Exception e) when (e is not OutOfMemoryException) { }
        device.Dispose();
        commits?.Dispose();
    }

    /// <summary>Opens FASTER on the log's files again, as <see cref="ResetAfterFailure"/> does (a typed error if it cannot).</summary>
    private (FasterLog Log, WalDevice Device, SlotCommitManager Commits) Reopen()
    {
        var device = CreateDevice(_directory, _settings);
        var commits = new SlotCommitManager(Path.Combine(_directory, SlotCommitManager.FileName));
        try
        {
            return (new FasterLog(LogSettings(device, commits, _settings, readOnly: false)), device, commits);
        }
        catch (Exception e) when (e is not VectorStoreException)
        {
            CloseAfterFailedOpen(device, commits);
            throw new StorageIoException(NewestCommitFile() ?? _directory, $"reopening the write-ahead log after a failed write failed: {e.Message}", e);
        }
    }

    /// <summary>
    /// Zeroes the segment holding <paramref name="address"/> from there on (shrinking and regrowing it leaves a hole:
    /// no space is needed on a full disk) and deletes the segments after it, then fsyncs what changed.
    /// </summary>
    private void DiscardPast(long address)
    {
        string path = SegmentPath(address);
        long offset = address & ((1L << _settings.SegmentSizeBits) - 1);
        if (File.Exists(path))
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            long length = file.Length;
            if (length > offset)
            {
                file.SetLength(offset);
                file.SetLength(length);
                file.Flush(flushToDisk: true);
            }
        }
        bool removed = false;
        for (long seg = (address >> _settings.SegmentSizeBits) + 1; ; seg++)
        {
            string next = SegmentPathIn(_directory, _settings, seg << _settings.SegmentSizeBits);
            if (!File.Exists(next)) break;
            File.Delete(next);
            removed = true;
        }
        if (removed) FileDurability.FsyncDirectory(_directory);
    }
}
