using System.Buffers.Binary;
using VectorStore.Client;
using VectorStore.Collections;
using VectorStore.Protocol;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// Hostile and broken clients against a live server on 127.0.0.1: each one gets an error frame or a closed
/// connection, a well-behaved client keeps being served throughout, and the data are unchanged (export checksum).
/// Every loop is bounded in count; every wait is bounded in time.
/// </summary>
public class AbuseTests
{
    private const int Dim = 16;

    /// <summary>The frame and handshake deadlines the tests of those deadlines wait out (the test server's are 10 s).</summary>
    private static VectorStore.Server.ServerOptions ShortDeadlines(VectorStore.Server.ServerOptions o) =>
        o with { FrameTimeout = TimeSpan.FromSeconds(1), HandshakeTimeout = TimeSpan.FromSeconds(2) };

    private static async Task<(LiveServer Live, ulong Checksum, float[] Query, SearchHit[] Expected)> StartAsync(Func<VectorStore.Server.ServerOptions, VectorStore.Server.ServerOptions>? configure = null)
    {
        var live = LiveServer.Start(configure);
        var c = LiveServer.Populate(live.Database, "c", 2000, Dim);
        var q = c.Get(4)!.Vector;
        await Task.CompletedTask;
        return (live, LiveServer.ExportChecksum(live.Database), q, c.Search(q, new SearchOptions { K = 10 }));
    }

    /// <summary>The server still answers a fresh, honest client correctly and the data did not change.</summary>
    private static async Task AssertHealthyAsync(LiveServer live, ulong checksum, float[] query, SearchHit[] expected)
    {
        await using var client = await live.ConnectAsync();
        var hits = await client.SearchAsync("c", query, new SearchOptions { K = 10 });
        Assert.Equal(expected, hits);
        Assert.Equal(checksum, LiveServer.ExportChecksum(live.Database));
    }

    [Fact]
    public async Task RandomBytesBeforeAndAfterHandshake()
    {
        var (live, sum, q, expected) = await StartAsync(ShortDeadlines);
        await using var _ = live;
        var rng = new Random(1234);
        for (int round = 0; round < 60; round++)
        {
            bool handshake = round % 2 == 1;
            using var raw = await RawConnection.OpenAsync(live.Port, handshake);
            var junk = new byte[rng.Next(1, 3000)];
            rng.NextBytes(junk);
            await raw.SendRawAsync(junk);
            // Either an error frame followed by a close, a close, or (a partial frame) a close at the frame timeout.
            Assert.True(await raw.ClosedByServerAsync(TimeSpan.FromSeconds(5)), $"round {round}: server kept a junk connection open");
        }
        await AssertHealthyAsync(live, sum, q, expected);
    }

    [Fact]
    public async Task HugeLengthPrefixIsRefusedWithoutAllocating()
    {
        var (live, sum, q, expected) = await StartAsync();
        await using var _ = live;
        using var raw = await RawConnection.OpenAsync(live.Port, handshake: true);
        var header = new byte[ProtocolConstants.HeaderSize];
        BinaryPrimitives.WriteUInt32LittleEndian(header, 0x8000_0000);
        header[4] = (byte)Opcode.UpsertBatch;
        await raw.SendRawAsync(header);
        var error = await raw.ReadErrorAsync();
        Assert.Equal(ErrorCode.LimitExceeded, error.Code);
        Assert.True(await raw.ClosedByServerAsync(TimeSpan.FromSeconds(3)));
        // Before the handshake even a frame within the normal limit is refused if it is bigger than a Hello can be.
        using var anonymous = await RawConnection.OpenAsync(live.Port);
        BinaryPrimitives.WriteUInt32LittleEndian(header, 1 << 20);
        header[4] = (byte)Opcode.Hello;
        await anonymous.SendRawAsync(header);
        Assert.Equal(ErrorCode.LimitExceeded, (await anonymous.ReadErrorAsync()).Code);
        Assert.True(await anonymous.ClosedByServerAsync(TimeSpan.FromSeconds(3)));
        await AssertHealthyAsync(live, sum, q, expected);
    }

    [Fact]
    public async Task TruncatedFramesAndStallersAreClosedWhileOthersAreServed()
    {
        var (live, sum, q, expected) = await StartAsync(ShortDeadlines);
        await using var _ = live;
        var upsert = RawConnection.Frame((byte)Opcode.UpsertBatch, 9, new UpsertBatchRequest("c", [4], new VectorMatrix(new float[Dim], Dim), null));

        // Truncated then closed by the client: nothing is applied.
        using (var raw = await RawConnection.OpenAsync(live.Port, handshake: true))
            await raw.SendRawAsync(upsert[..^3]);

        // Stalled mid-header and mid-payload: the frame timeout (1 s here) closes them; meanwhile others are served.
        using var stallHeader = await RawConnection.OpenAsync(live.Port, handshake: true);
        await stallHeader.SendRawAsync(upsert[..5]);
        using var stallPayload = await RawConnection.OpenAsync(live.Port, handshake: true);
        await stallPayload.SendRawAsync(upsert[..^1]);
        using var stallHandshake = await RawConnection.OpenAsync(live.Port);
        await AssertHealthyAsync(live, sum, q, expected);
        Assert.True(await stallHeader.ClosedByServerAsync(TimeSpan.FromSeconds(5)));
        Assert.True(await stallPayload.ClosedByServerAsync(TimeSpan.FromSeconds(5)));
        Assert.True(await stallHandshake.ClosedByServerAsync(TimeSpan.FromSeconds(5)));
        await AssertHealthyAsync(live, sum, q, expected);
    }

    [Fact]
    public async Task BadRequestsGetErrorFramesAndTheConnectionSurvives()
    {
        var (live, sum, q, expected) = await StartAsync();
        await using var _ = live;
        using var raw = await RawConnection.OpenAsync(live.Port, handshake: true);

        async Task<ErrorCode> ErrorOf(byte opcode, IWireMessage message)
        {
            await raw.SendRawAsync(RawConnection.Frame(opcode, 77, message));
            var (op, id, payload) = await raw.ReadFrameAsync();
            Assert.Equal((byte)Opcode.Error, op);
            Assert.Equal(77u, id);
            return ErrorResponse.Read(payload).Code;
        }

        Assert.Equal(ErrorCode.UnknownOpcode, await ErrorOf(0x77, new NameRequest("c")));
        Assert.Equal(ErrorCode.UnknownOpcode, await ErrorOf((byte)Opcode.Hello, new NameRequest("c")));
        var wrongDim = new VectorMatrix(new float[Dim + 1], Dim + 1);
        Assert.Equal(ErrorCode.InvalidVector, await ErrorOf((byte)Opcode.Search, new SearchRequest("c", new SearchOptions(), wrongDim)));
        Assert.Equal(ErrorCode.InvalidVector, await ErrorOf((byte)Opcode.UpsertBatch, new UpsertBatchRequest("c", [1], wrongDim, null)));
        var query = new VectorMatrix(q, Dim);
        Assert.Equal(ErrorCode.InvalidArgument, await ErrorOf((byte)Opcode.Search, new SearchRequest("c", new SearchOptions { K = 0 }, query)));
        Assert.Equal(ErrorCode.LimitExceeded, await ErrorOf((byte)Opcode.Search, new SearchRequest("c", new SearchOptions { K = 1_000_000_000 }, query)));
        Assert.Equal(ErrorCode.LimitExceeded, await ErrorOf((byte)Opcode.SearchBatch, new SearchRequest("c", new SearchOptions { K = 1_000_000_000 }, query)));
        Assert.Equal(ErrorCode.InvalidArgument, await ErrorOf((byte)Opcode.Search, new SearchRequest("missing", new SearchOptions(), query)));
        // A payload that lies about its counts: one id announced as a million.
        var lie = RawConnection.Frame((byte)Opcode.Delete, 77, new IdBatchRequest("c", [1]));
        BinaryPrimitives.WriteUInt32LittleEndian(lie.AsSpan(ProtocolConstants.HeaderSize + 3), 1_000_000);
        await raw.SendRawAsync(lie);
        Assert.Equal(ErrorCode.LimitExceeded, (await raw.ReadErrorAsync()).Code);
        BinaryPrimitives.WriteUInt32LittleEndian(lie.AsSpan(ProtocolConstants.HeaderSize + 3), 2);
        await raw.SendRawAsync(lie);
        Assert.Equal(ErrorCode.BadPayload, (await raw.ReadErrorAsync()).Code);

        // The same connection still works.
        await raw.SendRawAsync(RawConnection.Frame((byte)Opcode.Search, 78, new SearchRequest("c", new SearchOptions { K = 10 }, query)));
        var (okOp, okId, okPayload) = await raw.ReadFrameAsync();
        Assert.Equal((byte)Opcode.Search | ProtocolConstants.ResponseBit, okOp);
        Assert.Equal(78u, okId);
        Assert.Equal(expected, SearchResponse.Read(okPayload).Results[0]);
        await AssertHealthyAsync(live, sum, q, expected);
    }

    [Fact]
    public async Task WrongTokenMissingHandshakeAndBadVersionAreRefused()
    {
        var (live, sum, q, expected) = await StartAsync();
        await using var _ = live;
        await Assert.ThrowsAsync<AuthenticationFailedException>(() =>
            VectorStoreClient.ConnectAsync("127.0.0.1", live.Port, new ClientOptions { Token = "wrong"u8.ToArray() }));
        await Assert.ThrowsAsync<AuthenticationFailedException>(() => VectorStoreClient.ConnectAsync("127.0.0.1", live.Port));

        using (var raw = await RawConnection.OpenAsync(live.Port))
        {
            await raw.SendAsync(Opcode.Search, 1, new NameRequest("c"));
            Assert.Equal(ErrorCode.HandshakeRequired, (await raw.ReadErrorAsync()).Code);
            Assert.True(await raw.ClosedByServerAsync(TimeSpan.FromSeconds(3)));
        }
        using (var raw = await RawConnection.OpenAsync(live.Port))
        {
            await raw.SendAsync(Opcode.Hello, 0, new HelloRequest(99, "s3cret-token"u8.ToArray()));
            Assert.Equal(ErrorCode.UnsupportedVersion, (await raw.ReadErrorAsync()).Code);
            Assert.True(await raw.ClosedByServerAsync(TimeSpan.FromSeconds(3)));
        }
        await AssertHealthyAsync(live, sum, q, expected);
    }

    [Fact]
    public async Task TwoHundredConnectionsOpenedAndDropped()
    {
        var (live, sum, q, expected) = await StartAsync();
        await using var _ = live;
        await using var steady = await live.ConnectAsync();
        var rng = new Random(5);
        for (int i = 0; i < 200; i++)
        {
            using var raw = await RawConnection.OpenAsync(live.Port, handshake: i % 3 != 0);
            if (i % 3 == 1) await raw.SendRawAsync(RawConnection.Frame((byte)Opcode.Search, 1, new SearchRequest("c", new SearchOptions(), new VectorMatrix(q, Dim)))[..rng.Next(1, 40)]);
            if (i % 50 == 0) Assert.Equal(expected, await steady.SearchAsync("c", q, new SearchOptions { K = 10 }));
        }
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (live.Server.ConnectionCount > 1 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(1, live.Server.ConnectionCount);
        Assert.Equal(expected, await steady.SearchAsync("c", q, new SearchOptions { K = 10 }));
        await AssertHealthyAsync(live, sum, q, expected);
    }

    [Fact]
    public async Task PipelinedRequestsBeyondTheInFlightLimitAllComplete()
    {
        var (live, sum, q, expected) = await StartAsync(o => o with { Limits = o.Limits with { MaxInFlight = 4 } });
        await using var _ = live;
        await using var client = await live.ConnectAsync();
        var c = live.Database.GetCollection("c");
        var tasks = Enumerable.Range(0, 300).Select(i =>
        {
            var query = c.Get((ulong)(i % 2000) * 3 + 1)!.Vector;
            return (Expected: c.Search(query, new SearchOptions { K = 1 + i % 20 }), Task: client.SearchAsync("c", query, new SearchOptions { K = 1 + i % 20 }));
        }).ToArray();
        foreach (var (exp, task) in tasks) Assert.Equal(exp, await task);
        await AssertHealthyAsync(live, sum, q, expected);
    }

    [Fact]
    public async Task CancellationReconnectAndGracefulShutdown()
    {
        var (live, sum, q, expected) = await StartAsync(o => o with { IdleTimeout = TimeSpan.FromMilliseconds(500) });
        await using var client = await live.ConnectAsync();

        using (var cts = new CancellationTokenSource())
        {
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SearchAsync("c", q, new SearchOptions { K = 10 }, cts.Token));
        }
        Assert.Equal(expected, await client.SearchAsync("c", q, new SearchOptions { K = 10 }));
        // Cancelled while the server works on it: the call ends, the late response is dropped, the connection lives on.
        var many = new VectorMatrix(4000, Dim);
        for (int i = 0; i < many.Count; i++) q.CopyTo(many[i]);
        using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(2)))
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.SearchBatchAsync("c", many, new SearchOptions { K = 100 }, cts.Token));
        Assert.Equal(expected, await client.SearchAsync("c", q, new SearchOptions { K = 10 }));

        // The idle timeout closes the client's connection; the next call reconnects transparently.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (live.Server.ConnectionCount > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(0, live.Server.ConnectionCount);
        Assert.Equal(expected, await client.SearchAsync("c", q, new SearchOptions { K = 10 }));

        // Graceful shutdown answers what is in flight, then refuses new connections.
        var big = LiveServer.Populate(live.Database, "big", 3000, 64, compression: "none", train: false);
        var queries = new VectorMatrix(200, 64);
        for (int i = 0; i < 200; i++) big.Get((ulong)i * 3 + 1)!.Vector.CopyTo(queries[i]);
        // The idle timeout (500 ms here) may have closed the connection while "big" was loaded: reconnect first, so the
        // 100 ms below are the requests' own, not a reconnection's.
        await client.PingAsync();
        var inFlight = Enumerable.Range(0, 8).Select(_ => client.SearchBatchAsync("big", queries, new SearchOptions { K = 10 })).ToArray();
        await Task.Delay(100);
        await live.Server.StopAsync();
        int answered = 0;
        foreach (var t in inFlight)
        {
            try
            {
                Assert.Equal(200, (await t).Length);
                answered++;
            }
            catch (VectorStoreConnectionException)
            {
                // A request still unread when shutdown began is not executed; the client learns so.
            }
        }
        Assert.True(answered > 0, "no in-flight request was answered during graceful shutdown");
        await Assert.ThrowsAsync<VectorStoreConnectionException>(() => VectorStoreClient.ConnectAsync("127.0.0.1", live.Port,
            new ClientOptions { Token = "s3cret-token"u8.ToArray(), ConnectTimeout = TimeSpan.FromSeconds(2) }));
        Assert.True(live.Database.DropCollection("big"));
        Assert.Equal(sum, LiveServer.ExportChecksum(live.Database));
        await live.DisposeAsync();
    }

    [Fact]
    public async Task AClientThatStopsReadingIsCutOffByTheWriteTimeout()
    {
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var (live, sum, q, expected) = await StartAsync(o => o with { WriteTimeout = TimeSpan.FromSeconds(1), Log = log.Enqueue });
        await using var _ = live;
        using var raw = await RawConnection.OpenAsync(live.Port, handshake: true);
        // 64 Get requests of 1000 vectors each (~70 KB per response, ~4.5 MB in all) that the client never reads.
        var ids = Enumerable.Range(0, 1000).Select(i => (ulong)i * 3 + 1).ToArray();
        var frame = RawConnection.Frame((byte)Opcode.Get, 5, new IdBatchRequest("c", ids));
        for (int i = 0; i < 64; i++) await raw.SendRawAsync(frame);
        await AssertHealthyAsync(live, sum, q, expected);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (live.Server.ConnectionCount > 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Equal(0, live.Server.ConnectionCount);
        Assert.Contains(log, line => line.Contains("write timeout"));
        await AssertHealthyAsync(live, sum, q, expected);
    }

    [Fact]
    public async Task ConnectionsBeyondTheLimitAreClosedAtOnce()
    {
        var (live, sum, q, expected) = await StartAsync(o => o with { MaxConnections = 3 });
        await using var _ = live;
        var held = new List<RawConnection>();
        for (int i = 0; i < 3; i++) held.Add(await RawConnection.OpenAsync(live.Port, handshake: true));
        using (var extra = await RawConnection.OpenAsync(live.Port))
            Assert.True(await extra.ClosedByServerAsync(TimeSpan.FromSeconds(5)));
        foreach (var h in held) h.Dispose();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (live.Server.ConnectionCount > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        await AssertHealthyAsync(live, sum, q, expected);
    }

    [Fact]
    public async Task RepliesCompleteOutOfOrderMatchedByRequestId()
    {
        // Requests run on the thread pool; other test classes run in parallel and can hold its few threads (2 on a
        // 2-core CI machine), and the pool injects more only every ~0.5 s. Reserve threads so the ping is not queued
        // behind unrelated work — what is tested is that the server does not serialize the two requests.
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), io);
        var (live, sum, q, expected) = await StartAsync(o => o with { BatchSearchThreads = 1 });
        await using var _ = live;
        var big = LiveServer.Populate(live.Database, "big", 4000, 64, compression: "none", train: false);
        // Large enough (~10^9 multiply-adds) that a ping finds a core before it ends even on a heavily loaded machine.
        var queries = new VectorMatrix(4000, 64);
        for (int i = 0; i < queries.Count; i++) big.Get((ulong)i * 3 + 1)!.Vector.CopyTo(queries[i]);
        using var raw = await RawConnection.OpenAsync(live.Port, handshake: true);
        // A slow exact-scan batch (id 1), then a ping (id 2) on the same connection: the ping is answered first.
        await raw.SendRawAsync([
            .. RawConnection.Frame((byte)Opcode.SearchBatch, 1, new SearchRequest("big", new SearchOptions { K = 10 }, queries)),
            .. RawConnection.Frame((byte)Opcode.Ping, 2, EmptyResponse.Instance)]);
        var first = await raw.ReadFrameAsync(TimeSpan.FromSeconds(30));
        var second = await raw.ReadFrameAsync(TimeSpan.FromSeconds(30));
        Assert.Equal((2u, (byte)((byte)Opcode.Ping | ProtocolConstants.ResponseBit)), (first.RequestId, first.Opcode));
        Assert.Equal((1u, (byte)((byte)Opcode.SearchBatch | ProtocolConstants.ResponseBit)), (second.RequestId, second.Opcode));
        Assert.Equal(4000, SearchResponse.Read(second.Payload).Results.Length);
        Assert.True(live.Database.DropCollection("big"));
        await AssertHealthyAsync(live, sum, q, expected);
    }
}
