using FASTER.core;

namespace VectorStore.Storage;

/// <summary>Sizes of a collection's FASTER log. Defaults suit large collections; tests shrink them.</summary>
internal sealed record WalSettings
{
    /// <summary>log2 of the page size; an entry must fit in a page. Default 22 (4 MiB).</summary>
    public int PageSizeBits { get; init; } = 22;

    /// <summary>
    /// log2 of the in-memory log buffer. Default 23 (8 MiB, two pages: FASTER's minimum). FASTER allocates the whole
    /// buffer when it opens a log, so this is a fixed cost of every open collection, searched or not: 16 MiB cost
    /// 16 bytes per vector of a 1M-vector collection. Two pages still let one page flush while the next fills.
    /// </summary>
    public int MemorySizeBits { get; init; } = 23;

    /// <summary>
    /// log2 of the segment file size. Truncation frees whole segments only, so this bounds what compaction leaves
    /// behind (the segment holding the tail). Default 24 (16 MiB).
    /// </summary>
    public int SegmentSizeBits { get; init; } = 24;

    /// <summary>Largest entry accepted (a quarter page leaves room for FASTER's header and page padding).</summary>
    public int MaxEntryBytes => 1 << (PageSizeBits - 2);

    /// <summary>Test-only: faults to inject into the segment files' writes (<see cref="DeviceFaults"/>). Default null.</summary>
    public DeviceFaults? Faults { get; init; }
}

/// <summary>
/// <see cref="IWriteAheadLog"/> on FASTER's <see cref="FasterLog"/> with per-entry checksums, plus the defences the
/// storage engine needs because FASTER 2.6.5 (a) reopens an empty log without error when its newest commit file is
/// empty, (b) does not verify its commit file's checksum, (c) accepts truncation inside a record and (d) never fsyncs.
/// So: every commit is fsynced here (segments, commit files, directory) and then recorded in our own checksummed
/// <see cref="DurableTail"/>, and every entry is wrapped in a <see cref="LogFraming"/> envelope whose sequence number
/// and chained checksum let replay prove it read every acknowledged entry (FASTER reads a zeroed length field as page
/// padding and skips the rest of the page without a word); see FasterWriteAheadLog.Scan.cs.
/// Thread-safety: see <see cref="IWriteAheadLog"/>.
/// </summary>
internal sealed partial class FasterWriteAheadLog : IWriteAheadLog
{
    private const string SegmentBaseName = "wal.log";
    private readonly string _directory;
    private readonly WalSettings _settings;
    // Replaced, with the commit manager, when the log is reopened after a failed write (FasterWriteAheadLog.Failure.cs).
    private WalDevice _device;
    private FasterLog _log;
    private readonly DurableTail _tail;
    private readonly object _commitGate = new();
    private readonly object _boundaryGate = new();
    private readonly List<(long Address, LogFraming.Point At)> _boundaries = [];
    private readonly object _appendGate = new();
    // Appended entries not yet known durable: where each ends and the chain position after it (commits pop them).
    private readonly Queue<(long End, LogFraming.Point After)> _unsynced = new();
    // Guards _unsynced and _durablePoint only, never held while waiting: commits complete on FASTER's threads and must
    // not wait for an appender that holds _appendGate while FASTER makes room for its entry.
    private readonly object _unsyncedGate = new();
    private bool _readOnly;
    // Whether the log's entries carry the envelope (a version-2 durable-tail record); false only for a log written
    // before the framing existed, which is read as it is and migrated by the first checkpoint (TruncateBefore).
    private bool _framed;
    // The chain position at the log's begin address (as the durable-tail record names it).
    private long _anchorBegin;
    private LogFraming.Point _anchor;
    // The chain position at _syncedUntil (the last acknowledged entry is _durablePoint.Sequence - 1).
    private LogFraming.Point _durablePoint;
    // The position the next appended entry takes; known once the log has been verified (create, or a full scan).
    private LogFraming.Point _next;
    private bool _chainKnown;
    // The durable address the durable-tail record named at open (errors name wal.commit when FASTER recovered less).
    private long _recordedDurable;
    private readonly object _segmentGate = new();
    private readonly HashSet<long> _directorySynced = [];
    private SlotCommitManager? _commits;
    private long _syncedUntil;
    private long _segmentsSyncedUntil;

    private FasterWriteAheadLog(string directory, WalSettings settings, WalDevice device, FasterLog log, DurableTail tail)
    {
        _directory = directory;
        _settings = settings;
        _device = device;
        _log = log;
        _tail = tail;
    }

    static FasterWriteAheadLog()
    {
        // FASTER's flush and commit callbacks block thread-pool threads; with the default minimum (one per core) a
        // commit waits ~1 s for the pool to inject a thread whenever the pool is busy (measured: every other commit
        // of a 1.5 MB batch took 0.8-1.0 s on 2 cores, 2-30 ms with this floor).
        ThreadPool.GetMinThreads(out int workers, out int io);
        if (workers < 16) ThreadPool.SetMinThreads(16, Math.Max(io, 16));
    }

    /// <summary>Opens (or, with <paramref name="create"/>, creates) the log in <paramref name="directory"/>.</summary>
    public static FasterWriteAheadLog Open(string directory, WalSettings settings, bool create)
    {
        Directory.CreateDirectory(directory);
        string tailPath = Path.Combine(directory, DurableTail.FileName);
        if (!create && !File.Exists(tailPath))
            throw new StoreCorruptedException(tailPath, "durable-tail record is missing; the write-ahead log cannot be trusted");
        var device = CreateDevice(directory, settings);
        SlotCommitManager? commits = null;
        FasterLog? log = null;
        DurableTail tail;
        // A refused or failed open closes what it opened: a caller that retries (a database reopening a stopped
        // collection, a server asked again) must not collect a log, its page buffer and three file handles per attempt.
        try
        {
            commits = new SlotCommitManager(Path.Combine(directory, SlotCommitManager.FileName));
            try
            {
                log = new FasterLog(LogSettings(device, commits, settings, readOnly: false));
            }
            catch (Exception e) when (e is not VectorStoreException)
            {
                // Out of memory (FASTER allocates its page buffer here) says nothing about the files.
                if (e is OutOfMemoryException) throw;
                throw new StoreCorruptedException(NewestCommitFile(directory) ?? directory, $"FASTER could not recover the write-ahead log: {e.Message}", e);
            }
            tail = create ? DurableTail.Create(tailPath) : DurableTail.Open(tailPath);
        }
        catch
        {
            // FASTER disposes only commit managers it created itself.
            CloseAfterFailedOpen(log, device, commits);
            throw;
        }
        var wal = new FasterWriteAheadLog(directory, settings, device, log, tail) { _commits = commits };
        wal.Attach(commits);
        try
        {
            wal.Validate(create);
            // Nothing has been appended yet, and a collection may stay unwritten for its whole life.
            wal.ReleaseUnusedBuffer();
        }
        catch
        {
            wal.Dispose();
            throw;
        }
        return wal;
    }

    /// <summary>
    /// Opens the log in <paramref name="directory"/> for reading only (FASTER's read-only mode: recovery reads the
    /// newest commit and writes nothing, neither commit files nor the durable-tail record), to replay records a
    /// read-only database's snapshot does not cover. Refuses, as <see cref="Open"/> does, when FASTER recovers less
    /// than the durable-tail record says was acknowledged. Appending or committing fails.
    /// </summary>
    public static FasterWriteAheadLog OpenForReading(string directory, WalSettings settings)
    {
        string tailPath = Path.Combine(directory, DurableTail.FileName);
        if (!File.Exists(tailPath))
            throw new StoreCorruptedException(tailPath, "durable-tail record is missing; the write-ahead log cannot be trusted");
        string commitPath = Path.Combine(directory, SlotCommitManager.FileName);
        if (!File.Exists(commitPath))
            throw new StoreCorruptedException(commitPath, "commit metadata is missing, but the durable-tail record says the log holds acknowledged writes");
        var tail = DurableTail.OpenRead(tailPath);
        WalDevice? device = null;
        SlotCommitManager? commits = null;
        FasterLog? log = null;
        try
        {
            device = CreateDevice(directory, settings);
            commits = new SlotCommitManager(commitPath, readOnly: true);
            try
            {
                log = new FasterLog(LogSettings(device, commits, settings, readOnly: true));
                log.RecoverReadOnly();
            }
            catch (Exception e) when (e is not VectorStoreException)
            {
                if (e is OutOfMemoryException) throw;
                throw new StoreCorruptedException(commitPath, $"FASTER could not recover the write-ahead log for reading: {e.Message}", e);
            }
        }
        catch
        {
            // As in Open: nothing of a refused open stays open.
            CloseAfterFailedOpen(log, commits, device, tail);
            throw;
        }
        var wal = new FasterWriteAheadLog(directory, settings, device, log, tail) { _commits = commits, _readOnly = true };
        try
        {
            wal.Validate(create: false);
        }
        catch
        {
            wal.Dispose();
            throw;
        }
        return wal;
    }

    /// <summary>
    /// Disposes what a failed open made, in order, each one even if one before it throws: the open's own error (the
    /// typed one naming the file) is what its caller must see, not a failure of the cleanup after it (traced).
    /// </summary>
    private static void CloseAfterFailedOpen(params IDisposable?[] parts) => Closing.All("after a failed log open", parts);

    /// <summary>FASTER's device for the segment files, behind <see cref="WalDevice"/>.</summary>
    private static WalDevice CreateDevice(string directory, WalSettings settings)
    {
        RefuseForeignSegmentNames(directory);
        return new(Devices.CreateLogDevice(Path.Combine(directory, SegmentBaseName), preallocateFile: false, deleteOnClose: false, recoverDevice: true, disableFileBuffering: false),
            segment => Path.Combine(directory, $"{SegmentBaseName}.{segment}"), settings.Faults);
    }

    /// <summary>
    /// FASTER's device takes every file whose name starts with <c>wal.log</c> for a segment and parses the rest of
    /// the name with its dots removed: a stray file (<c>wal.log.bak</c>, an editor's <c>wal.log.0.orig</c>) failed the
    /// open with an untyped <see cref="FormatException"/>, and <c>wal.log.1.2</c> would have been read as segment 12.
    /// Only the names the log writes (<c>wal.log.N</c>, N in decimal without leading zeros) are accepted; anything else
    /// is a refusal naming the file, to be moved out of the directory.
    /// </summary>
    private static void RefuseForeignSegmentNames(string directory)
    {
        if (!Directory.Exists(directory)) return;
        // Files only, as FASTER's device looks at files only.
        foreach (var path in Directory.EnumerateFiles(directory, SegmentBaseName + "*"))
        {
            string name = Path.GetFileName(path);
            if (name == SegmentBaseName) continue;
            string suffix = name.StartsWith(SegmentBaseName + ".", StringComparison.Ordinal) ? name[(SegmentBaseName.Length + 1)..] : "";
            if (int.TryParse(suffix, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n)
                && n.ToString(System.Globalization.CultureInfo.InvariantCulture) == suffix)
                continue;
            throw new StoreCorruptedException(path, "not a segment of the write-ahead log (the log names its segments wal.log.N); move it out of the directory");
        }
    }

    /// <summary>FASTER's settings for our log; read-only recovers on request and never removes commits.</summary>
    private static FasterLogSettings LogSettings(IDevice device, SlotCommitManager commits, WalSettings settings, bool readOnly) => new()
    {
        LogDevice = device,
        LogCommitManager = commits,
        PageSizeBits = settings.PageSizeBits,
        MemorySizeBits = settings.MemorySizeBits,
        SegmentSizeBits = settings.SegmentSizeBits,
        LogChecksum = LogChecksumType.PerEntry,
        ReadOnlyMode = readOnly,
        TryRecoverLatest = !readOnly,
        RemoveOutdatedCommits = !readOnly,
        AutoRefreshSafeTailAddress = false,
    };

    private void Validate(bool create)
    {
        long recovered = _log.CommittedUntilAddress;
        if (create)
        {
            _framed = true;
            _anchorBegin = _log.BeginAddress;
            _anchor = _durablePoint = _next = LogFraming.Point.Start;
            _chainKnown = true;
            _tail.Record(new TailRecord(_anchorBegin, _anchor, recovered, _durablePoint, Framed: true));
        }
        else
        {
            var t = _tail.Read();
            _framed = t.Framed;
            _recordedDurable = t.Durable;
            // A framed log whose FASTER metadata covers less than the durable-tail record is not refused yet: the
            // verifying scan reads past FASTER's committed address and refuses only if acknowledged entries are
            // really gone (a lost newest commit slot leaves them intact in the segment).
            if ((!t.Framed && recovered < t.Durable) || recovered < t.Begin)
                throw new StoreCorruptedException(NewestCommitFile() ?? _directory,
                    $"FASTER recovered the log only up to address {recovered}, but {t.Durable} was acknowledged as durable " +
                    "(commit metadata empty, damaged or lost); refusing to open with less data");
            // A framed log's begin is recorded before FASTER truncates (TruncateBefore), so FASTER's is never past it.
            if (_log.BeginAddress > (t.Framed ? t.Begin : Math.Max(t.Begin, recovered)))
                throw new StoreCorruptedException(NewestCommitFile() ?? _directory,
                    $"FASTER recovered begin address {_log.BeginAddress}, past the recorded begin {t.Begin}");
            _anchorBegin = t.Begin;
            _anchor = t.Framed ? t.BeginPoint : LogFraming.Point.Start;
            _durablePoint = t.Framed ? t.DurablePoint : LogFraming.Point.Start;
            _next = _anchor;
            _chainKnown = !t.Framed;
        }
        _syncedUntil = recovered;
        _segmentsSyncedUntil = recovered;
        if (_chainKnown) lock (_boundaryGate) _boundaries.Add((_log.TailAddress, _next));
    }

    /// <summary>
    /// Whether the log's entries carry the sequence envelope; a log of the previous format does not, accepts no
    /// appends, and is migrated by the first checkpoint's truncation (which must leave it empty).
    /// </summary>
    public bool Framed => _framed;

    /// <inheritdoc />
    public long BeginAddress => _log.BeginAddress;

    /// <summary>Whether entries were dropped from the log's start (a checkpoint truncated it): known for framed logs only.</summary>
    public bool Truncated => _framed && _anchor.Sequence > LogFraming.Point.Start.Sequence;

    /// <inheritdoc />
    public long TailAddress => _log.TailAddress;

    /// <inheritdoc />
    public long CommittedAddress => Volatile.Read(ref _syncedUntil);

    /// <summary>The durable-tail record (exposed for corruption tests and error messages).</summary>
    public string DurableTailPath => _tail.Path;

    /// <inheritdoc />
    public long Append(ReadOnlySpan<byte> entry)
    {
        if (entry.Length > _settings.MaxEntryBytes)
            throw new InvalidArgumentException($"log entry of {entry.Length} bytes exceeds the {_settings.MaxEntryBytes}-byte limit");
        if (!_framed)
            throw new InvalidOperationException("the log is in the previous (unframed) format; a checkpoint must migrate it before appending");
        EnsureChain();
        int length = LogFraming.EnvelopeSize + entry.Length;
        lock (_appendGate)
        {
            ThrowIfDisposed();
            ThrowIfFailed();
            var after = LogFraming.Next(_next, entry);
            long at;
            unsafe
            {
                // Framed straight into FASTER's page: no intermediate copy of a (up to MaxEntryBytes) entry.
                fixed (byte* body = entry) at = Enqueue(new FramedEntry(body, entry.Length, _next, after));
            }
            _next = after;
            lock (_unsyncedGate) _unsynced.Enqueue((at + LogFraming.FasterHeaderSize + LogFraming.Align(length), after));
            CrashPoints.Reach(CrashPoints.Appended);
            return _log.TailAddress;
        }
    }

    /// <summary>
    /// An entry FASTER serializes into its own page: the envelope for position <c>at</c> (chain value of
    /// <c>next</c>), then the body. The body is pinned by the caller for the call; FASTER runs
    /// <see cref="SerializeTo"/> under its epoch, where nothing may block or throw.
    /// </summary>
    private readonly unsafe struct FramedEntry(byte* body, int length, LogFraming.Point at, LogFraming.Point next) : ILogEnqueueEntry
    {
        public int SerializedLength => LogFraming.EnvelopeSize + length;

        public void SerializeTo(Span<byte> dest) => LogFraming.Wrap(dest, at, next, new ReadOnlySpan<byte>(body, length));
    }

    /// <inheritdoc />
    public long Commit()
    {
        lock (_commitGate)
        {
            ThrowIfDisposed();
            ThrowIfFailed();
            long target = _log.TailAddress;
            if (target <= _syncedUntil) return _syncedUntil;
            try
            {
                _log.Commit(spinWait: true);
                _log.WaitForCommit(target);
                long reached = _log.CommittedUntilAddress;
                PublishDurable(reached, force: true);
                return reached;
            }
            catch (Exception e) when (e is not VectorStoreException)
            {
                throw Fail(e);
            }
        }
    }

    /// <summary>Wires a commit manager to this log: segments fsynced before each commit slot, and the test fault hook.</summary>
    private void Attach(SlotCommitManager commits)
    {
        commits.BeforeCommit = SyncSegmentsUntil;
        commits.Faults = _settings.Faults;
    }

    /// <summary>
    /// Publishes a commit FASTER completed up to <paramref name="reached"/>: fsyncs what its callback has not, then
    /// records the durable tail with the chain position there. Caller holds the commit gate.
    /// </summary>
    private void PublishDurable(long reached, bool force)
    {
        if (reached <= _syncedUntil && !force) return;
        // FASTER counts a commit whose data or slot could not be made durable as done (SlotCommitManager.Failure).
        if (_commits?.Failure is { } failed) throw new CommitSlotFailure(_commits.FailedPath ?? SegmentPath(_syncedUntil), failed);
        reached = Math.Max(reached, _syncedUntil);
        SyncSegmentsUntil(reached); // normally done already, before FASTER wrote the commit metadata
        long lastEnd = -1;
        lock (_unsyncedGate)
        {
            while (_unsynced.Count > 0 && _unsynced.Peek().End <= reached)
            {
                (lastEnd, _durablePoint) = _unsynced.Dequeue();
            }
        }
        CrashPoints.Reach(CrashPoints.CommitWritten);
        if (_settings.Faults?.TakeTailRecordFault() == true) throw new IOException("injected fault: the durable-tail record was not written");
        _tail.Record(new TailRecord(_anchorBegin, _anchor, reached, _durablePoint, Framed: true));
        CrashPoints.Reach(CrashPoints.TailWritten);
        // FASTER's tail sits at a page's end while an entry that did not fit waits for the next page; a commit then
        // ends on the boundary, after padding (the case replay once refused, data-format.md §4.2).
        if (lastEnd >= 0 && lastEnd < reached && (reached & ((1L << _settings.PageSizeBits) - 1)) == 0)
            CrashPoints.Reach(CrashPoints.PageBoundaryCommit);
        Volatile.Write(ref _syncedUntil, reached);
    }

    /// <summary>
    /// fsyncs the segment files holding [last synced, <paramref name="until"/>), and the directory the first time a
    /// segment file is synced (FASTER creates segment files lazily and never fsyncs a directory). Called by
    /// <see cref="SlotCommitManager"/> before each commit's metadata is written.
    /// </summary>
    private void SyncSegmentsUntil(long until)
    {
        lock (_segmentGate)
        {
            long from = _segmentsSyncedUntil;
            if (until <= from) return;
            int bits = _settings.SegmentSizeBits;
            bool newEntry = false;
            for (long seg = from >> bits; seg <= (until - 1) >> bits; seg++)
            {
                string path = Path.Combine(_directory, $"{SegmentBaseName}.{seg}");
                if (!File.Exists(path)) continue;
                FileDurability.FsyncFile(path);
                newEntry |= _directorySynced.Add(seg);
            }
            if (newEntry) FileDurability.FsyncDirectory(_directory);
            _segmentsSyncedUntil = until;
        }
    }

    /// <summary>The FASTER commit-metadata file (see <see cref="SlotCommitManager"/>).</summary>
    public string? NewestCommitFile() => NewestCommitFile(_directory);

    private static string? NewestCommitFile(string directory)
    {
        string path = Path.Combine(directory, SlotCommitManager.FileName);
        return File.Exists(path) ? path : null;
    }

    /// <summary>Paths of the segment files that lie wholly before <paramref name="address"/> (whether or not they still exist).</summary>
    public IEnumerable<string> SegmentsBefore(long address)
    {
        for (long seg = 0; seg < address >> _settings.SegmentSizeBits; seg++) yield return SegmentPath(seg << _settings.SegmentSizeBits);
    }

    /// <summary>The segment file holding <paramref name="address"/>.</summary>
    public string SegmentPath(long address) => SegmentPathIn(_directory, _settings, address);

    private static string SegmentPathIn(string directory, WalSettings settings, long address) =>
        Path.Combine(directory, $"{SegmentBaseName}.{Math.Max(0, address) >> settings.SegmentSizeBits}");

    /// <summary>Test-only: a failure to throw from <see cref="CaptureBoundary"/> (a checkpoint failing after its unlocked half); null = none.</summary>
    internal Func<Exception?>? BoundaryFault { get; set; }

    /// <inheritdoc />
    public long CaptureBoundary()
    {
        if (BoundaryFault?.Invoke() is { } fault) throw fault;
        if (_framed) EnsureChain();
        long tail;
        LogFraming.Point at;
        lock (_appendGate)
        {
            tail = _log.TailAddress;
            at = _next;
        }
        lock (_boundaryGate)
        {
            _boundaries.Add((tail, at));
            if (_boundaries.Count > 16) _boundaries.RemoveAt(0);
        }
        return tail;
    }

    /// <inheritdoc />
    public void TruncateBefore(long address)
    {
        LogFraming.Point at;
        lock (_boundaryGate)
        {
            int i = _boundaries.FindLastIndex(b => b.Address == address);
            if (i < 0) throw new InvalidOperationException($"refusing to truncate the log at {address}: not a captured record boundary");
            at = _boundaries[i].At;
        }
        if (address > CommittedAddress && address > _log.BeginAddress)
            throw new InvalidOperationException($"refusing to truncate at {address}: beyond the durable address {CommittedAddress}");
        lock (_commitGate)
        {
            ThrowIfDisposed(); // a background checkpoint can outlive the close: the durable-tail record is closed
            if (!_framed) Migrate(address);
            else if (address > _anchorBegin)
            {
                // Recorded before FASTER drops anything, so the chain's anchor is never behind FASTER's begin.
                _anchorBegin = address;
                _anchor = at;
                _tail.Record(new TailRecord(_anchorBegin, _anchor, _syncedUntil, _durablePoint, Framed: true));
            }
        }
        if (address <= _log.BeginAddress) return;
        lock (_commitGate)
        {
            ThrowIfDisposed();
            ThrowIfFailed();
            try
            {
                _log.TruncateUntil(address);
                _log.Commit(spinWait: true);
                PublishDurable(_log.CommittedUntilAddress, force: true);
            }
            catch (Exception e) when (e is not VectorStoreException)
            {
                throw Fail(e);
            }
            FileDurability.FsyncDirectory(_directory);
        }
        // FASTER deletes a segment only once all of it is behind the begin address; the truncated prefix of the
        // current one is released here (the new begin address is durable by now, and nothing reads below it).
        long mask = (1L << _settings.SegmentSizeBits) - 1;
        FileSpace.PunchPrefix(SegmentPath(address), address & mask);
    }

    /// <summary>
    /// Switches a previous-format log to the framed one at a truncation that leaves it empty (the checkpoint the
    /// store runs when it opens such a log): the version-2 durable-tail record replaces the old one atomically and
    /// names <paramref name="address"/> as the begin of a new chain, so no unframed entry is ever read as framed.
    /// </summary>
    private void Migrate(long address)
    {
        if (address != _log.TailAddress || address != _syncedUntil)
            throw new InvalidOperationException($"a previous-format log migrates only at its durable tail ({_syncedUntil}), not at {address}");
        var start = LogFraming.Point.Start;
        _tail.Upgrade(new TailRecord(address, start, address, start, Framed: true));
        _anchorBegin = address;
        _anchor = _durablePoint = _next = start;
        _chainKnown = true;
        _framed = true;
    }

    /// <inheritdoc />
    public IReadOnlyList<string> Files
    {
        get
        {
            var files = new List<string>();
            foreach (var f in Directory.EnumerateFiles(_directory, "*", SearchOption.AllDirectories)) files.Add(f);
            return files;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // Under both gates, so an append or a synchronous Commit (checkpoints, Flush) either ends before FASTER's log
        // is disposed or sees _disposed and throws: on a disposed FasterLog, Enqueue and WaitForCommit spin forever (a
        // writer racing the close of its database would hang, and with it whatever waits for that writer). A group
        // commit in flight is not waited for: its waiters (writers included) get ObjectDisposedException.
        lock (_appendGate)
        lock (_commitGate)
        {
            if (_disposed) return;
            _disposed = true;
            // A log whose reopening failed (ResetAfterFailure) has its FASTER objects disposed already. Every part is
            // closed even when one before it throws, and the first error is rethrown after them all.
            Exception? error = null;
            try { DisposeFaster(_log); }
            catch (Exception e) when (_failure is not null && e is not OutOfMemoryException) { }
            catch (Exception e) { error = e; }
            // FASTER disposes only commit managers it created itself.
            var closing = Closing.All($"closing the write-ahead log in {_directory}", _device, _tail, _commits);
            Closing.ThrowIfFailed(error ?? closing);
        }
    }
}
