using System.Buffers.Binary;
using System.Net;
using VectorStore.Client;
using VectorStore.Collections;
using VectorStore.Protocol;
using VectorStore.Server;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// The server-wide limits in process: the handshake pool and its eviction, the authenticated cap, the memory budget
/// (its bookkeeping, back-pressure, and the frame that can never fit), and the warning for exposed listeners.
/// Every loop is bounded in count and every wait in time.
/// </summary>
public class ServerLimitsTests
{
    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition() && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.True(condition(), what);
    }

    [Fact]
    public async Task AFullHandshakePoolClosesItsOldestToAdmitNewcomers()
    {
        await using var live = LiveServer.Start(o => o with { MaxUnauthenticatedConnections = 2, HandshakeTimeout = TimeSpan.FromSeconds(30) });
        var silent = new List<RawConnection>();
        for (int i = 0; i < 5; i++) silent.Add(await RawConnection.OpenAsync(live.Port));
        try
        {
            // The three oldest made room; the two newest still wait for their Hello.
            for (int i = 0; i < 3; i++) Assert.True(await silent[i].ClosedByServerAsync(TimeSpan.FromSeconds(5)), $"silent socket {i} was not closed");
            await using var client = await live.ConnectAsync();
            await client.PingAsync();
            Assert.Equal(1, live.Server.AuthenticatedConnectionCount);
        }
        finally
        {
            foreach (var s in silent) s.Dispose();
        }
    }

    [Fact]
    public async Task SilentSocketsNeverTakeAnAuthenticatedPlace()
    {
        await using var live = LiveServer.Start(o => o with { MaxConnections = 2, MaxUnauthenticatedConnections = 4, HandshakeTimeout = TimeSpan.FromSeconds(30) });
        var silent = new List<RawConnection>();
        for (int i = 0; i < 10; i++) silent.Add(await RawConnection.OpenAsync(live.Port));
        try
        {
            await using var a = await live.ConnectAsync();
            await using var b = await live.ConnectAsync();
            await a.PingAsync();
            await b.PingAsync();
            Assert.Equal(2, live.Server.AuthenticatedConnectionCount);
            // Both authenticated places are taken: a third client is refused at once, and told so if it got as far as Hello.
            await Assert.ThrowsAnyAsync<VectorStoreException>(() => live.ConnectAsync());
        }
        finally
        {
            foreach (var s in silent) s.Dispose();
        }
        await WaitUntilAsync(() => live.Server.AuthenticatedConnectionCount == 0, "authenticated connections were not counted out");
    }

    [Fact]
    public async Task AFrameThatCanNeverFitTheBudgetIsRefusedUpFront()
    {
        // 2 MiB of budget holds a request of at most 1 MiB of payload (a request is charged twice its payload).
        await using var live = LiveServer.Start(o => o with { MemoryBudgetBytes = 2L << 20 });
        await using var client = await live.ConnectAsync();
        Assert.Equal((1 << 20) + ProtocolConstants.HeaderBodySize, client.ServerLimits.MaxFrameBytes);
        var big = new VectorMatrix(1000, 300);
        await Assert.ThrowsAsync<LimitExceededException>(() => client.UpsertBatchAsync("c", Enumerable.Range(0, 1000).Select(i => (ulong)i).ToArray(), big));

        // A raw client that ignores the announced limit gets LimitExceeded from the header alone, and the connection closes.
        using var raw = await RawConnection.OpenAsync(live.Port, handshake: true);
        var header = new byte[ProtocolConstants.HeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (3u << 20) / 2);
        header[4] = (byte)Opcode.UpsertBatch;
        await raw.SendRawAsync(header);
        var error = await raw.ReadErrorAsync();
        Assert.Equal(ErrorCode.LimitExceeded, error.Code);
        Assert.Contains("can never fit this server's memory budget of 2097152 bytes", error.Message);
        Assert.True(await raw.ClosedByServerAsync(TimeSpan.FromSeconds(5)));
        await client.PingAsync();
    }

    [Fact]
    public async Task RequestsBeyondTheBudgetWaitAndAreAllAnswered()
    {
        const long Budget = 4L << 20;
        await using var live = LiveServer.Start(o => o with { MemoryBudgetBytes = Budget });
        var clients = new List<VectorStoreClient>();
        for (int i = 0; i < 3; i++) clients.Add(await live.ConnectAsync());
        // 1.2 MiB payloads, 2.4 MiB charged: one at a time fits, 24 are offered at once.
        var rows = new VectorMatrix(300, 1024);
        var ids = Enumerable.Range(0, 300).Select(i => (ulong)i).ToArray();
        var requests = clients.SelectMany(c => Enumerable.Range(0, 8).Select(_ => c.UpsertBatchAsync("absent", ids, rows))).ToArray();
        var all = Task.WhenAll(requests);
        long most = 0;
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!all.IsCompleted && DateTime.UtcNow < deadline)
        {
            most = Math.Max(most, live.Server.MemoryInUse);
            await Task.WhenAny(all, Task.Delay(1));
        }
        Assert.True(all.IsCompleted, $"{requests.Count(r => !r.IsCompleted)} of {requests.Length} requests still unanswered after 2 minutes (budget {live.Server.MemoryInUse} bytes in use)");
        foreach (var r in requests) await Assert.ThrowsAsync<InvalidArgumentException>(() => r);
        // Requests are reserved within the budget; only error responses (a few dozen bytes each) are charged on top.
        Assert.True(most <= Budget + 24 * 1024, $"{most} bytes charged, budget {Budget}");
        foreach (var c in clients) await c.DisposeAsync();
        await live.Server.StopAsync();
        GC.Collect();
        await WaitUntilAsync(() => { GC.Collect(); return live.Server.MemoryInUse == 0; }, $"{live.Server.MemoryInUse} bytes still charged after every request finished");
    }

    /// <summary>
    /// A finished large request's bytes stay charged until a full collection, but they are not in flight: the idle
    /// trim (that collection) keyed on <see cref="MemoryBudget.Used"/> never ran after a bulk load.
    /// </summary>
    [Fact]
    public void ReleasedLargeObjectBytesAreChargedButNotInFlight()
    {
        var budget = new MemoryBudget(100);
        Assert.True(budget.TryReserve(40));
        Assert.Equal(40, budget.InFlight);
        budget.Release(40, largeObjects: true);
        Assert.Equal(0, budget.InFlight);
        Assert.True(budget.Used is 0 or 40); // 0 only if a full collection happened to run meanwhile
        Assert.True(budget.TryReserve(25));
        Assert.Equal(25, budget.InFlight);
        budget.Release(25, largeObjects: false);
        Assert.Equal(0, budget.InFlight);
    }

    /// <summary>
    /// A waiter that no longer fits only because of released large-object bytes awaiting a collection is admitted when
    /// a small (non-large-object) release makes room for it apart from that garbage: that release starts the
    /// collection. It used to only try to grant, so the waiter, and every request queued behind it, waited for good.
    /// </summary>
    [Fact]
    public async Task ASmallReleaseStartsTheCollectionAWaiterBehindGarbageNeeds()
    {
        var budget = new MemoryBudget(100);
        Assert.True(budget.TryReserve(40)); // a large request
        Assert.True(budget.TryReserve(50)); // a small one (an error response)
        budget.Release(40, largeObjects: true);
        var waiter = budget.ReserveAsync(70, CancellationToken.None).AsTask(); // 50 live + 70 > 100: no collection helps yet
        budget.Release(50, largeObjects: false); // 0 live + 70 fits once the 40 garbage bytes are collected
        await waiter.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(70, budget.Used);
    }

    [Fact]
    public async Task TheBudgetAdmitsInOrderAndGivesLargeObjectBytesBackOnlyAfterACollection()
    {
        var budget = new MemoryBudget(100);
        Assert.True(budget.TryReserve(60));
        var first = budget.ReserveAsync(50, CancellationToken.None).AsTask();
        // Nobody jumps the line, even when they would fit.
        Assert.False(budget.TryReserve(30));
        using (var cts = new CancellationTokenSource())
        {
            var cancelled = budget.ReserveAsync(10, cts.Token).AsTask();
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        }
        budget.Release(60, largeObjects: false);
        await first.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(50, budget.Used);

        budget.Release(50, largeObjects: true);
        Assert.Equal(50, budget.Used);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true);
        Assert.True(budget.TryReserve(100));
        budget.Release(100, largeObjects: true);

        // A waiter held back only by uncollected garbage makes the budget run the collection itself.
        int induced = budget.InducedCollections;
        await budget.ReserveAsync(80, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(induced + 1, budget.InducedCollections);
        Assert.Equal(80, budget.Used);
    }

    [Theory]
    [InlineData("127.0.0.1", false, false, null)]
    [InlineData("::1", false, false, null)]
    [InlineData("0.0.0.0", false, false, "without a token")]
    [InlineData("::", false, true, "without a token")]
    [InlineData("0.0.0.0", true, false, "without TLS: the token and all data travel in clear")]
    [InlineData("192.168.1.20", true, true, null)]
    public void ListeningBeyondLoopbackUnprotectedIsWarnedAbout(string address, bool token, bool tls, string? expected)
    {
        var warning = VectorStoreServer.ExposureWarning(new IPEndPoint(IPAddress.Parse(address), 7000), token, tls);
        if (expected is null) Assert.Null(warning);
        else Assert.Contains(expected, warning);
    }

    [Fact]
    public void SettingsOutOfRangeAreRefused()
    {
        using var db = VectorDatabase.CreateInMemory();
        Assert.Throws<InvalidArgumentException>(() => new VectorStoreServer(db, new ServerOptions { MaxUnauthenticatedConnections = 0 }));
        Assert.Throws<InvalidArgumentException>(() => new VectorStoreServer(db, new ServerOptions { MaxConnections = 0 }));
        Assert.Throws<InvalidArgumentException>(() => new VectorStoreServer(db, new ServerOptions { MemoryBudgetBytes = 1000 }));
    }
}
