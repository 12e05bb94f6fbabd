using System.Diagnostics;
using VectorStore.Server;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// The idle trim (<see cref="ServerOptions.IdleTrimDelay"/>): one full collection after traffic once the server has
/// been idle for the delay, or after an allocation burst once the process has allocated only a trickle for the delay;
/// never while busy, never twice for one idle period, never when off. (The live tests turn the allocation rule off:
/// the test process's other tests allocate.)
/// (What it returns to the OS is measured, not asserted: notes/issue-19-throughput.md.)
/// </summary>
public sealed class IdleTrimTests
{
    private static long After(TimeSpan span) => Stopwatch.GetTimestamp() + (long)(span.TotalSeconds * Stopwatch.Frequency);

    [Fact]
    public void TrimsOnceAfterTrafficWhenIdleForTheDelay()
    {
        var trim = new IdleTrim(TimeSpan.FromSeconds(5));
        Assert.False(trim.TryTrim(After(TimeSpan.FromMinutes(1)), busy: false, 0)); // no traffic yet
        trim.NoteRequest();
        Assert.False(trim.TryTrim(After(TimeSpan.FromSeconds(1)), busy: false, 0)); // not idle long enough
        Assert.False(trim.TryTrim(After(TimeSpan.FromSeconds(10)), busy: true, 0)); // a request in flight
        Assert.True(trim.TryTrim(After(TimeSpan.FromSeconds(10)), busy: false, 0));
        Assert.False(trim.TryTrim(After(TimeSpan.FromSeconds(20)), busy: false, 0)); // once per idle period
        Assert.Equal(1, trim.Trims);
        trim.NoteRequest();
        Assert.True(trim.TryTrim(After(TimeSpan.FromSeconds(10)), busy: false, 0));
        Assert.Equal(2, trim.Trims);
    }

    /// <summary>
    /// A silo's grain calls reach it without a request to its listener: allocation is the activity then. A burst
    /// followed by a quiet delay trims once; quiet is an average over the delay, so a buffer now and then is quiet and
    /// steady allocation is not; too little garbage is not worth a trim; requests now and then (a monitor pinging) do
    /// not hold the allocation rule off.
    /// </summary>
    [Fact]
    public void WithoutRequestsAnAllocationBurstFollowedByQuietTrimsOnce()
    {
        var trim = new IdleTrim(TimeSpan.FromSeconds(5));
        long t = Stopwatch.GetTimestamp(), quarter = Stopwatch.Frequency / 4, mb = 1 << 20;
        long allocated = 100 * mb;
        bool Sweep(long seconds, long bytes, bool busy = false)
        {
            bool trimmed = false;
            for (long i = 0; i < 4 * seconds; i++) trimmed |= trim.TryTrim(t += quarter, busy, allocated += bytes / (4 * seconds));
            return trimmed;
        }
        Assert.False(trim.TryTrim(t, busy: false, allocated)); // the first sweep only starts the window
        Assert.False(Sweep(1, 40 * mb)); // a burst
        Assert.False(Sweep(4, 400_000)); // a trickle, but not yet the delay since the burst
        Assert.False(Sweep(2, 0, busy: true)); // quiet long enough, but in flight
        Assert.True(Sweep(1, 0));
        Assert.False(Sweep(60, 6 * mb)); // once per quiet period (0.1 MiB/s since)
        Assert.Equal(1, trim.Trims);

        // Less than 32 MiB since the trim: not worth one, however quiet.
        Assert.False(Sweep(1, 8 * mb));
        Assert.False(Sweep(60, 0));
        // Steady allocation (2 MiB/s) with plenty of garbage keeps postponing it; quiet afterwards trims.
        Assert.False(Sweep(30, 60 * mb));
        // Quiet is the average over the delay: 2 MiB/s for the last 3 s of a 5 s window is still too much after 2 s.
        Assert.False(Sweep(2, 0));
        Assert.True(Sweep(1, 0));
        Assert.Equal(2, trim.Trims);

        // A 300 KB buffer every 2 s is a trickle, and a monitor's ping every 2 s (the request rule never due) does
        // not hold the allocation rule off: quiet after a burst all the same.
        Assert.False(Sweep(1, 50 * mb));
        bool trimmed = false;
        for (int i = 0; i < 5 && !trimmed; i++)
        {
            trim.NoteRequest(t);
            trimmed = Sweep(2, 300_000);
        }
        Assert.True(trimmed);
        Assert.Equal(3, trim.Trims);
    }

    [Fact]
    public void OverlappingSweepsTrimOnce()
    {
        var trim = new IdleTrim(TimeSpan.FromMilliseconds(1));
        trim.NoteRequest();
        long later = After(TimeSpan.FromSeconds(1));
        var results = new bool[8];
        Parallel.For(0, results.Length, i => results[i] = trim.TryTrim(later, busy: false, 0));
        Assert.Equal(1, results.Count(r => r));
        Assert.Equal(1, trim.Trims);
    }

    [Fact]
    public void OffByDefaultForAnEmbeddedServer()
    {
        Assert.Equal(TimeSpan.Zero, new ServerOptions().IdleTrimDelay);
        var trim = new IdleTrim(TimeSpan.Zero);
        trim.NoteRequest();
        Assert.False(trim.TryTrim(After(TimeSpan.FromHours(1)), busy: false, 0));
        Assert.Equal(0, trim.Trims);
    }

    [Fact]
    public async Task AServedRequestIsFollowedByOneTrimOnceIdle()
    {
        await using var live = LiveServer.Start(o => o with { IdleTrimDelay = TimeSpan.FromMilliseconds(300), IdleTrimAllocationBytes = long.MaxValue });
        await using var client = await live.ConnectAsync();
        await client.PingAsync();
        var deadline = Stopwatch.StartNew();
        while (live.Server.IdleTrims == 0 && deadline.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(50);
        Assert.Equal(1, live.Server.IdleTrims);
        await Task.Delay(800); // idle for more than the delay again, with no new request: no second trim
        Assert.Equal(1, live.Server.IdleTrims);
    }

    /// <summary>
    /// A bulk load's batches sit on the large-object heap, and their bytes stay charged to the memory budget until a
    /// full collection: the trim, which is that collection, used to count them as a request in flight and never ran.
    /// </summary>
    [Fact]
    public async Task ALargeUpsertBatchDoesNotHoldTheTrimOff()
    {
        await using var live = LiveServer.Start(o => o with { IdleTrimDelay = TimeSpan.FromMilliseconds(300), IdleTrimAllocationBytes = long.MaxValue });
        await using var client = await live.ConnectAsync();
        await client.CreateCollectionAsync("c", new VectorStore.Collections.CollectionOptions { Dimension = 64, Compression = "none", Index = "flat" });
        var rng = new Random(5);
        var data = new VectorMatrix(1000, 64); // 256 KB on the wire: a large-object request
        for (int i = 0; i < data.Data.Length; i++) data.Data[i] = (float)rng.NextDouble();
        await client.UpsertBatchAsync("c", Enumerable.Range(0, 1000).Select(i => (ulong)i).ToArray(), data);
        var deadline = Stopwatch.StartNew();
        while (live.Server.IdleTrims == 0 && deadline.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(50);
        Assert.Equal(1, live.Server.IdleTrims);
    }
}
