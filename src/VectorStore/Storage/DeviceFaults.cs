namespace VectorStore.Storage;

/// <summary>What <see cref="DeviceFaults"/> does to the write it picks.</summary>
internal enum DeviceFaultKind
{
    /// <summary>Nothing is written; the write reports EIO.</summary>
    Eio,

    /// <summary>Nothing is written; the write reports ENOSPC.</summary>
    NoSpace,

    /// <summary>The first half of the bytes is written, then the write reports EIO (a short write the OS gave up on).</summary>
    ShortWrite,

    /// <summary>
    /// Only the first sector of the bytes reaches the file but the write reports success (a disk that lies, or a
    /// page torn by a power cut): the damage is found only when the log is read back.
    /// </summary>
    TornPage,
}

/// <summary>
/// Test-only hook of <see cref="WalDevice"/>: injects <see cref="Kind"/> into the <see cref="AtWrite"/>-th write of
/// the write-ahead log's segment files (counted from 1 across every device the log opens, including the one it
/// reopens after a failure), and, with <see cref="Sticky"/>, into every write after it until <see cref="Heal"/> (a
/// disk that stays full). Production code never sets one (<see cref="WalSettings.Faults"/> is null).
/// Thread-safety: writes are counted atomically; FASTER issues them from several threads.
/// </summary>
internal sealed class DeviceFaults
{
    private long _writes;
    private volatile bool _healed;

    /// <summary>The 1-based write to fault; a test may move it while the log runs (e.g. to <see cref="Writes"/> + 1).</summary>
    public long AtWrite
    {
        get => Interlocked.Read(ref _atWrite);
        set => Interlocked.Exchange(ref _atWrite, value);
    }

    private long _atWrite;

    /// <summary>The fault.</summary>
    public DeviceFaultKind Kind { get; init; }

    /// <summary>Whether every write after <see cref="AtWrite"/> faults too, until <see cref="Heal"/>.</summary>
    public bool Sticky { get; init; }

    /// <summary>Writes seen so far.</summary>
    public long Writes => Interlocked.Read(ref _writes);

    /// <summary>Faults injected so far.</summary>
    public int Injected => _injected;

    private int _injected;

    /// <summary>
    /// How many of the next durable-tail record writes fail (an <see cref="IOException"/> before anything is written):
    /// a commit whose FASTER metadata slot is already on disk then completes with an error. Default 0.
    /// </summary>
    public int FailTailRecords
    {
        get => Volatile.Read(ref _failTailRecords);
        set => Volatile.Write(ref _failTailRecords, value);
    }

    private int _failTailRecords;

    /// <summary>Whether this durable-tail record write is to fail (counts one down).</summary>
    public bool TakeTailRecordFault() => TakeOne(ref _failTailRecords);

    /// <summary>
    /// How many of the next commit-slot writes (<c>wal.commit</c>) fail (an <see cref="IOException"/> before anything
    /// is written, after the log's data up to the commit was fsynced): a commit whose entries are on disk that no
    /// metadata claims. Default 0.
    /// </summary>
    public int FailCommitSlots
    {
        get => Volatile.Read(ref _failCommitSlots);
        set => Volatile.Write(ref _failCommitSlots, value);
    }

    private int _failCommitSlots;

    /// <summary>Whether this commit-slot write is to fail (counts one down).</summary>
    public bool TakeCommitSlotFault() => TakeOne(ref _failCommitSlots);

    private static bool TakeOne(ref int left)
    {
        int now;
        do
        {
            now = Volatile.Read(ref left);
            if (now <= 0) return false;
        }
        while (Interlocked.CompareExchange(ref left, now - 1, now) != now);
        return true;
    }

    /// <summary>
    /// Whether closing the device fails: it closes its files, then throws an <see cref="IOException"/> (a close(2)
    /// that reports an error, as network file systems do). Default false.
    /// </summary>
    public bool FailClose { get; init; }

    /// <summary>Stops injecting (the disk has space again).</summary>
    public void Heal() => _healed = true;

    /// <summary>Counts a write; the fault to inject into it, or null.</summary>
    public DeviceFaultKind? Next()
    {
        long n = Interlocked.Increment(ref _writes);
        if (_healed || n < AtWrite || (n > AtWrite && !Sticky)) return null;
        Interlocked.Increment(ref _injected);
        return Kind;
    }
}
