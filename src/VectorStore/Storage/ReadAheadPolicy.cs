using System.Runtime.InteropServices;

namespace VectorStore.Storage;

/// <summary>
/// Decides whether a batch of segment-row reads (one query's re-rank candidates) asks the kernel to read ahead
/// (<c>madvise(WILLNEED)</c> per row). On a cold cache that is what makes the faults of one query overlap; on a warm
/// one it is a system call per row for nothing (measured on the text set, everything cached: 0.41× the resident QPS
/// with it, 0.8× without). Batches read without the hint tell which case holds: their major page faults, counted per
/// thread, are the rows that had to come from disk. So: hints stay off while unhinted batches fault on fewer than one
/// row in twenty, and on otherwise; while on, one batch in <c>probe interval</c> goes unhinted to look again, the
/// interval doubling (up to 1,024) each time the cache is still cold, so a cold cache pays for few probes. While off,
/// one batch in 16 is counted: a count is two system calls (about 2 µs on a virtual machine, 12 % of a warm
/// 10,000-vector search with a re-rank of 20), and a cache that turns cold is still seen within 16 batches (the
/// counted one must read a segment row).
/// On systems without per-thread fault counts (not Linux) every batch is hinted, as before.
/// Thread-safety: any number of threads; the shared state is a hint, races only delay a switch by a batch.
/// </summary>
internal sealed partial class ReadAheadPolicy
{
    private const int MinProbeInterval = 16, MaxProbeInterval = 1024, WarmProbeInterval = 16;
    private static readonly bool CanCount = OperatingSystem.IsLinux() && (RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64);
    private volatile bool _hint = true;
    private int _probeInterval = MinProbeInterval;
    private int _batches;

    /// <summary>Whether hints are on (for tests and stats).</summary>
    public bool Hinting => _hint;

    /// <summary>Starts a batch: whether to hint its rows, and whether to count its faults (<see cref="End"/>).</summary>
    public Batch Begin()
    {
        if (!CanCount) return new Batch(true, -1);
        bool hint = _hint;
        int interval = hint ? Volatile.Read(ref _probeInterval) : WarmProbeInterval;
        if (Interlocked.Increment(ref _batches) % interval != 0) return new Batch(hint, -1);
        return new Batch(false, MajorFaults());
    }

    /// <summary>Ends a batch of <paramref name="rows"/> rows read from segments.</summary>
    public void End(Batch batch, int rows)
    {
        if (batch.FaultsBefore < 0 || rows == 0) return;
        Observe(MajorFaults() - batch.FaultsBefore, rows);
    }

    /// <summary>Applies what an unhinted batch saw: <paramref name="faults"/> major faults over <paramref name="rows"/> rows.</summary>
    internal void Observe(long faults, int rows)
    {
        if (faults * 20 > rows)
        {
            // Still (or again) cold: hint, and probe less often while it stays cold.
            if (_hint) Volatile.Write(ref _probeInterval, Math.Min(MaxProbeInterval, Volatile.Read(ref _probeInterval) * 2));
            _hint = true;
        }
        else
        {
            _hint = false;
            Volatile.Write(ref _probeInterval, MinProbeInterval);
        }
    }

    /// <summary>The current probe interval while hinting (tests).</summary>
    internal int ProbeInterval => Volatile.Read(ref _probeInterval);

    /// <summary>One batch's decision.</summary>
    internal readonly record struct Batch(bool Hint, long FaultsBefore);

    private static long MajorFaults()
    {
        Span<long> usage = stackalloc long[18]; // struct rusage on LP64 Linux: 2 timevals, then 14 longs
        if (GetRusage(RusageThread, ref MemoryMarshal.GetReference(usage)) != 0) return 0;
        return usage[2 + 2 + 5]; // ru_utime, ru_stime (2 longs each), ru_maxrss, ru_ixrss, ru_idrss, ru_isrss, ru_minflt, then ru_majflt
    }

    private const int RusageThread = 1;

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRusage(int who, ref long usage);
}
