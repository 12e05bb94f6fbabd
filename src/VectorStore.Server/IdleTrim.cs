using System.Diagnostics;

namespace VectorStore.Server;

/// <summary>
/// Returns a burst's garbage to the operating system once the server goes idle: after <c>delay</c> without a request
/// (and none in flight), one full, compacting, decommitting collection (<see cref="GCCollectionMode.Aggressive"/>).
/// Without it the arrays a bulk load leaves behind — each request's decoded batch and its prepared copy, large-object
/// heap for any batch over 85 KB — stay committed while nothing allocates, since only allocation triggers a
/// collection: a served database held 184 MB of anonymous memory after loading 50,000 × 384 vectors whose codes and
/// lists take under 10 MB. At most one collection per idle period, and only after traffic.
/// Thread-safe: requests note themselves from any thread, the server's sweep timer calls <see cref="TryTrim"/>.
/// </summary>
internal sealed class IdleTrim(TimeSpan delay)
{
    private long _lastRequest = Stopwatch.GetTimestamp();
    private int _dirty;
    private int _trims;

    /// <summary>How many trims have run.</summary>
    public int Trims => Volatile.Read(ref _trims);

    /// <summary>A request arrived.</summary>
    public void NoteRequest()
    {
        Volatile.Write(ref _lastRequest, Stopwatch.GetTimestamp());
        if (Volatile.Read(ref _dirty) == 0) Volatile.Write(ref _dirty, 1);
    }

    /// <summary>
    /// Trims when requests came since the last trim, the last one at least the delay before <paramref name="now"/>
    /// (a <see cref="Stopwatch"/> timestamp), and nothing is in flight (<paramref name="busy"/> false).
    /// </summary>
    public bool TryTrim(long now, bool busy)
    {
        if (delay <= TimeSpan.Zero || busy || Volatile.Read(ref _dirty) == 0) return false;
        long last = Volatile.Read(ref _lastRequest);
        if (Stopwatch.GetElapsedTime(last, now) < delay) return false;
        Volatile.Write(ref _dirty, 0);
        // A request noted between the read and the reset keeps the next idle period's trim.
        if (Volatile.Read(ref _lastRequest) != last) Volatile.Write(ref _dirty, 1);
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Interlocked.Increment(ref _trims);
        return true;
    }
}
