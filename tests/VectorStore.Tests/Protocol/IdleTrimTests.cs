using System.Diagnostics;
using VectorStore.Server;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// The idle trim (<see cref="ServerOptions.IdleTrimDelay"/>): one full collection after traffic once the server has
/// been idle for the delay, never while busy, never twice for one idle period, never without traffic, never when off.
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
    /// A silo's grain calls reach it without a request to its listener: allocation is the activity then. Garbage
    /// followed by a quiet period trims once; a trickle does not count as activity, and too little garbage is not
    /// worth a trim; allocating keeps postponing it.
    /// </summary>
    [Fact]
    public void WithoutRequestsAnAllocationBurstFollowedByQuietTrimsOnce()
    {
        var trim = new IdleTrim(TimeSpan.FromSeconds(5));
        long t = Stopwatch.GetTimestamp(), second = Stopwatch.Frequency, mb = 1 << 20;
        long allocated = 100 * mb;
        Assert.False(trim.TryTrim(t, busy: false, allocated));
        // A burst: 40 MiB in one second, then a trickle (100 KB/s) for ten seconds.
        allocated += 40 * mb;
        Assert.False(trim.TryTrim(t += second, busy: false, allocated)); // allocating now
        for (int i = 0; i < 4; i++) Assert.False(trim.TryTrim(t += second, busy: false, allocated += 100_000)); // quiet for 4 s
        Assert.False(trim.TryTrim(t += second, busy: true, allocated)); // quiet 5 s, but in flight
        Assert.True(trim.TryTrim(t += second, busy: false, allocated));
        Assert.False(trim.TryTrim(t += 60 * second, busy: false, allocated += 1_000_000)); // once per quiet period
        Assert.Equal(1, trim.Trims);

        // Less than MinGarbageBytes since the trim: not worth one, however quiet.
        allocated += 8 * mb;
        Assert.False(trim.TryTrim(t += second, busy: false, allocated));
        Assert.False(trim.TryTrim(t += 60 * second, busy: false, allocated));
        // Steady allocation (2 MiB/s) with plenty of garbage keeps postponing it; quiet afterwards trims.
        for (int i = 0; i < 30; i++) Assert.False(trim.TryTrim(t += second, busy: false, allocated += 2 * mb));
        Assert.False(trim.TryTrim(t += 4 * second, busy: false, allocated));
        Assert.True(trim.TryTrim(t += 2 * second, busy: false, allocated));
        Assert.Equal(2, trim.Trims);
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
        await using var live = LiveServer.Start(o => o with { IdleTrimDelay = TimeSpan.FromMilliseconds(300) });
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
        await using var live = LiveServer.Start(o => o with { IdleTrimDelay = TimeSpan.FromMilliseconds(300) });
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
