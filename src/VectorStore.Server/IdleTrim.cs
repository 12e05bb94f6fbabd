using System.Diagnostics;
using VectorStore.Memory;

namespace VectorStore.Server;

/// <summary>
/// Returns a burst's garbage to the operating system once the process goes quiet: one full, compacting, decommitting
/// collection (<see cref="GCCollectionMode.Aggressive"/>) when nothing is in flight and either requests came since the
/// last trim and none within <c>delay</c>, or <c>allocationBytes</c> were allocated since the last trim and the process
/// has allocated no faster than a trickle for <c>delay</c>. Without it the arrays a bulk load leaves behind — each
/// request's decoded batch and its prepared copy, large-object heap for any batch over 85 KB — stay committed while
/// nothing allocates, since only allocation triggers a collection: a served database held 184 MB of anonymous memory
/// after loading 50,000 × 384 vectors whose codes and lists take under 10 MB. The C heap's free pages go back too
/// (<see cref="NativeHeap.Trim"/>).
/// </summary>
/// <remarks>
/// The allocation rule is for work that reaches the process some other way: a cluster silo does much of its work for
/// grain calls that arrive over Orleans, not through its own listener, and a silo that only served those never
/// trimmed. Quiet means an average below <see cref="QuietBytesPerSecond"/> over the last <c>delay</c> (a trickle of
/// timers and heartbeats, or a buffer now and then, is quiet); an idle process that only trickles is collected at most once
/// per <c>allocationBytes</c>. At most one collection per quiet period.
/// Thread-safe: requests note themselves from any thread; <see cref="TryTrim"/> runs on the server's sweep timer,
/// whose callbacks may overlap (a slow sweep, a starved pool): an overlapping call does nothing.
/// </remarks>
internal sealed class IdleTrim(TimeSpan delay, long allocationBytes = IdleTrim.DefaultAllocationBytes)
{
    /// <summary>Allocation below this average rate (bytes per second) is quiet: runtime timers, Orleans heartbeats and membership.</summary>
    public const long QuietBytesPerSecond = 1 << 20;

    /// <summary>Bytes allocated since the last trim that are worth one without a request. 32 MiB.</summary>
    public const long DefaultAllocationBytes = 32L << 20;

    private long _lastRequest = Stopwatch.GetTimestamp();
    private int _requested;
    private int _trims;
    private int _running;
    // Touched only inside the _running guard: the allocated-bytes count at each sweep of the last delay, oldest first.
    private readonly List<(long At, long Allocated)> _window = [];
    private long _allocatedAtTrim = -1;

    /// <summary>How many trims have run.</summary>
    public int Trims => Volatile.Read(ref _trims);

    /// <summary>A request arrived.</summary>
    public void NoteRequest() => NoteRequest(Stopwatch.GetTimestamp());

    /// <summary>A request arrived at <paramref name="now"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    public void NoteRequest(long now)
    {
        Volatile.Write(ref _lastRequest, now);
        if (Volatile.Read(ref _requested) == 0) Volatile.Write(ref _requested, 1);
    }

    /// <summary>
    /// Trims when due (see the class); <paramref name="now"/> is a <see cref="Stopwatch"/> timestamp,
    /// <paramref name="busy"/> whether anything is in flight, <paramref name="allocated"/> the process's
    /// allocated-bytes count (<see cref="GC.GetTotalAllocatedBytes"/>).
    /// </summary>
    public bool TryTrim(long now, bool busy, long allocated)
    {
        if (delay <= TimeSpan.Zero || Interlocked.Exchange(ref _running, 1) != 0) return false;
        try
        {
            if (_allocatedAtTrim < 0) _allocatedAtTrim = allocated;
            // The window keeps one sample at least the delay old, so it always spans the whole delay once it can.
            while (_window.Count > 1 && Stopwatch.GetElapsedTime(_window[1].At, now) >= delay) _window.RemoveAt(0);
            _window.Add((now, allocated));
            var (oldestAt, oldestAllocated) = _window[0];
            double span = Stopwatch.GetElapsedTime(oldestAt, now).TotalSeconds;
            bool quiet = span >= delay.TotalSeconds && allocated - oldestAllocated <= QuietBytesPerSecond * span;
            if (busy) return false;

            long last = Volatile.Read(ref _lastRequest);
            bool afterRequests = Volatile.Read(ref _requested) != 0 && Stopwatch.GetElapsedTime(last, now) >= delay;
            bool afterAllocation = quiet && allocated - _allocatedAtTrim >= allocationBytes;
            if (!afterRequests && !afterAllocation) return false;
            Volatile.Write(ref _requested, 0);
            // A request noted between the read and the reset keeps the next idle period's trim.
            if (Volatile.Read(ref _lastRequest) != last) Volatile.Write(ref _requested, 1);
            _allocatedAtTrim = allocated;
            // The requests' and log batches' pooled buffers would outlive the collection otherwise.
            TransientBuffers.Release();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            // The burst's native allocations (socket and FASTER threads, the runtime's own) freed into the C heap's
            // arenas stay resident otherwise.
            NativeHeap.Trim();
            Interlocked.Increment(ref _trims);
            return true;
        }
        finally { Volatile.Write(ref _running, 0); }
    }
}
