using System.Diagnostics;

namespace VectorStore.Server;

/// <summary>
/// Returns a burst's garbage to the operating system once the process goes quiet: after <c>delay</c> without a
/// request (or, for work that arrives otherwise, without allocation beyond a trickle), with nothing in flight, one full, compacting, decommitting
/// collection (<see cref="GCCollectionMode.Aggressive"/>). Without it the arrays a bulk load leaves behind — each
/// request's decoded batch and its prepared copy, large-object heap for any batch over 85 KB — stay committed while
/// nothing allocates, since only allocation triggers a collection: a served database held 184 MB of anonymous memory
/// after loading 50,000 × 384 vectors whose codes and lists take under 10 MB.
/// </summary>
/// <remarks>
/// A cluster silo does much of its work for grain calls that arrive over Orleans, not through its own listener; a silo
/// that only served those never trimmed. So without requests, <see cref="MinGarbageBytes"/> allocated since the last
/// trim followed by a quiet period also trims; an idle process that only trickles (timers, heartbeats) is so collected
/// at most once per that many bytes. At most one collection per quiet period.
/// Thread-safe: requests note themselves from any thread, the server's sweep timer calls <see cref="TryTrim"/>.
/// </remarks>
internal sealed class IdleTrim(TimeSpan delay)
{
    /// <summary>Allocation below this rate (bytes per second) is quiet: runtime timers, Orleans heartbeats and membership.</summary>
    public const long QuietBytesPerSecond = 1 << 20;

    /// <summary>Bytes allocated since the last trim that are worth one without a request. 32 MiB.</summary>
    public const long MinGarbageBytes = 32L << 20;

    private long _lastRequest = Stopwatch.GetTimestamp();
    private int _requested;
    private int _trims;
    // Read and written by the sweep only (one timer callback at a time).
    private long _lastSweep = Stopwatch.GetTimestamp();
    private long _lastAllocating = Stopwatch.GetTimestamp();
    private long _lastAllocated = -1;
    private long _allocatedAtTrim = -1;

    /// <summary>How many trims have run.</summary>
    public int Trims => Volatile.Read(ref _trims);

    /// <summary>A request arrived.</summary>
    public void NoteRequest()
    {
        Volatile.Write(ref _lastRequest, Stopwatch.GetTimestamp());
        if (Volatile.Read(ref _requested) == 0) Volatile.Write(ref _requested, 1);
    }

    /// <summary>
    /// Trims when nothing is in flight (<paramref name="busy"/> false) and either requests came since the last trim and
    /// none within the delay before <paramref name="now"/> (a <see cref="Stopwatch"/> timestamp), or, without
    /// requests, <see cref="MinGarbageBytes"/> were allocated since the last trim and the process allocated no more
    /// than <see cref="QuietBytesPerSecond"/> within the delay. <paramref name="allocated"/> is the process's
    /// allocated-bytes count (<see cref="GC.GetTotalAllocatedBytes"/>).
    /// </summary>
    /// <remarks>
    /// Requests alone decide when they are the activity: a server embedded in a busy application still trims after its
    /// own traffic. The allocation rule is for work that reaches the process some other way (a silo's grain calls).
    /// </remarks>
    public bool TryTrim(long now, bool busy, long allocated)
    {
        if (delay <= TimeSpan.Zero) return false;
        if (_allocatedAtTrim < 0) _allocatedAtTrim = allocated;
        if (_lastAllocated >= 0)
        {
            double seconds = Math.Max(Stopwatch.GetElapsedTime(_lastSweep, now).TotalSeconds, 1e-3);
            if (allocated - _lastAllocated > QuietBytesPerSecond * seconds) _lastAllocating = now;
        }
        _lastAllocated = allocated;
        _lastSweep = now;
        if (busy) return false;

        long last = Volatile.Read(ref _lastRequest);
        bool due = Volatile.Read(ref _requested) != 0
            ? Stopwatch.GetElapsedTime(last, now) >= delay
            : allocated - _allocatedAtTrim >= MinGarbageBytes && Stopwatch.GetElapsedTime(_lastAllocating, now) >= delay;
        if (!due) return false;
        Volatile.Write(ref _requested, 0);
        // A request noted between the read and the reset keeps the next idle period's trim.
        if (Volatile.Read(ref _lastRequest) != last) Volatile.Write(ref _requested, 1);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        _allocatedAtTrim = allocated;
        Interlocked.Increment(ref _trims);
        return true;
    }
}
