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
}

/// <summary>
/// <see cref="IWriteAheadLog"/> on FASTER's <see cref="FasterLog"/> with per-entry checksums, plus the defences the
/// storage engine needs because FASTER 2.6.5 (a) reopens an empty log without error when its newest commit file is
/// empty, (b) does not verify its commit file's checksum, (c) accepts truncation inside a record and (d) never fsyncs.
/// So: every commit is fsynced here (segments, commit files, directory) and then recorded in our own checksummed
/// <see cref="DurableTail"/>; opening refuses when FASTER recovers less than that record says was durable.
/// Thread-safety: see <see cref="IWriteAheadLog"/>.
/// </summary>
internal sealed partial class FasterWriteAheadLog : IWriteAheadLog
{
    private const string SegmentBaseName = "wal.log";
    private readonly string _directory;
    private readonly WalSettings _settings;
    private readonly IDevice _device;
    private readonly FasterLog _log;
    private readonly DurableTail _tail;
    private readonly object _commitGate = new();
    private readonly object _boundaryGate = new();
    private readonly List<long> _boundaries = [];
    private readonly object _segmentGate = new();
    private readonly HashSet<long> _directorySynced = [];
    private SlotCommitManager? _commits;
    private long _syncedUntil;
    private long _segmentsSyncedUntil;

    private FasterWriteAheadLog(string directory, WalSettings settings, IDevice device, FasterLog log, DurableTail tail)
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
        var device = Devices.CreateLogDevice(Path.Combine(directory, SegmentBaseName), preallocateFile: false, deleteOnClose: false, recoverDevice: true, disableFileBuffering: false);
        FasterLog log;
        var commits = new SlotCommitManager(Path.Combine(directory, SlotCommitManager.FileName));
        try
        {
            log = new FasterLog(LogSettings(device, commits, settings, readOnly: false));
        }
        catch (Exception e) when (e is not VectorStoreException)
        {
            device.Dispose();
            throw new StoreCorruptedException(NewestCommitFile(directory) ?? directory, $"FASTER could not recover the write-ahead log: {e.Message}", e);
        }
        var wal = new FasterWriteAheadLog(directory, settings, device, log, create ? DurableTail.Create(tailPath) : DurableTail.Open(tailPath)) { _commits = commits };
        commits.BeforeCommit = wal.SyncSegmentsUntil;
        try
        {
            wal.Validate(create);
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
        var device = Devices.CreateLogDevice(Path.Combine(directory, SegmentBaseName), preallocateFile: false, deleteOnClose: false, recoverDevice: true, disableFileBuffering: false);
        var commits = new SlotCommitManager(commitPath, readOnly: true);
        FasterLog log;
        try
        {
            log = new FasterLog(LogSettings(device, commits, settings, readOnly: true));
            log.RecoverReadOnly();
        }
        catch (Exception e) when (e is not VectorStoreException)
        {
            commits.Dispose();
            device.Dispose();
            tail.Dispose();
            throw new StoreCorruptedException(commitPath, $"FASTER could not recover the write-ahead log for reading: {e.Message}", e);
        }
        var wal = new FasterWriteAheadLog(directory, settings, device, log, tail) { _commits = commits };
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
            _tail.Record(_log.BeginAddress, recovered);
        }
        else
        {
            var (begin, durable) = _tail.Read();
            if (recovered < durable)
                throw new StoreCorruptedException(NewestCommitFile() ?? _directory,
                    $"FASTER recovered the log only up to address {recovered}, but {durable} was acknowledged as durable " +
                    "(commit metadata empty, damaged or lost); refusing to open with less data");
            if (_log.BeginAddress > Math.Max(begin, recovered))
                throw new StoreCorruptedException(NewestCommitFile() ?? _directory,
                    $"FASTER recovered begin address {_log.BeginAddress}, past the recorded begin {begin}");
        }
        _syncedUntil = recovered;
        _segmentsSyncedUntil = recovered;
        lock (_boundaryGate) _boundaries.Add(_log.TailAddress);
    }

    /// <inheritdoc />
    public long BeginAddress => _log.BeginAddress;

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
        _log.Enqueue(entry);
        return _log.TailAddress;
    }

    /// <inheritdoc />
    public long Commit()
    {
        lock (_commitGate)
        {
            long target = _log.TailAddress;
            if (target <= _syncedUntil) return _syncedUntil;
            _log.Commit(spinWait: true);
            _log.WaitForCommit(target);
            long reached = _log.CommittedUntilAddress;
            SyncSegmentsUntil(reached); // normally done already, before FASTER wrote the commit metadata
            _tail.Record(_log.BeginAddress, reached);
            Volatile.Write(ref _syncedUntil, reached);
            return reached;
        }
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

    /// <inheritdoc />
    public IEnumerable<LogEntry> Scan(long from, long until)
    {
        using var it = _log.Scan(from, until);
        while (true)
        {
            byte[] entry;
            int length;
            long address, next;
            try
            {
                if (!it.GetNext(out entry, out length, out address, out next)) yield break;
            }
            catch (Exception e) when (e is not VectorStoreException)
            {
                throw new StoreCorruptedException(SegmentPath(it.NextAddress), $"log entry near address {it.NextAddress} is unreadable: {e.Message}", e);
            }
            if (length != entry.Length) Array.Resize(ref entry, length);
            yield return new LogEntry(address, entry, next);
        }
    }

    /// <summary>Paths of the segment files that lie wholly before <paramref name="address"/> (whether or not they still exist).</summary>
    public IEnumerable<string> SegmentsBefore(long address)
    {
        for (long seg = 0; seg < address >> _settings.SegmentSizeBits; seg++) yield return SegmentPath(seg << _settings.SegmentSizeBits);
    }

    /// <summary>The segment file holding <paramref name="address"/>.</summary>
    public string SegmentPath(long address) => Path.Combine(_directory, $"{SegmentBaseName}.{Math.Max(0, address) >> _settings.SegmentSizeBits}");

    /// <inheritdoc />
    public long CaptureBoundary()
    {
        long tail = _log.TailAddress;
        lock (_boundaryGate)
        {
            _boundaries.Add(tail);
            if (_boundaries.Count > 16) _boundaries.RemoveAt(0);
        }
        return tail;
    }

    /// <inheritdoc />
    public void TruncateBefore(long address)
    {
        lock (_boundaryGate)
        {
            if (!_boundaries.Contains(address))
                throw new InvalidOperationException($"refusing to truncate the log at {address}: not a captured record boundary");
        }
        if (address <= _log.BeginAddress) return;
        if (address > CommittedAddress) throw new InvalidOperationException($"refusing to truncate at {address}: beyond the durable address {CommittedAddress}");
        _log.TruncateUntil(address);
        lock (_commitGate)
        {
            _log.Commit(spinWait: true);
            long reached = _log.CommittedUntilAddress;
            reached = Math.Max(reached, _syncedUntil);
            SyncSegmentsUntil(reached);
            _tail.Record(_log.BeginAddress, reached);
            FileDurability.FsyncDirectory(_directory);
            Volatile.Write(ref _syncedUntil, reached);
        }
        // FASTER deletes a segment only once all of it is behind the begin address; the truncated prefix of the
        // current one is released here (the new begin address is durable by now, and nothing reads below it).
        long mask = (1L << _settings.SegmentSizeBits) - 1;
        FileSpace.PunchPrefix(SegmentPath(address), address & mask);
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
        _log.Dispose();
        _device.Dispose();
        _tail.Dispose();
        _commits?.Dispose(); // FASTER disposes only commit managers it created itself
    }
}
