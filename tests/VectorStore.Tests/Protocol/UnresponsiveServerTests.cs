using System.Net;
using System.Net.Sockets;
using VectorStore.Client;
using VectorStore.Protocol;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// A server that stops answering. Past <see cref="ClientOptions.RequestTimeout"/>, one that accepts requests and never
/// answers (stalled, or a connection dropped without a reset) fails a read that has no token, the connection is
/// retired and the next call reconnects; writes and maintenance calls are not bounded by it. One that hangs up mid-call and cannot
/// be reached again is reported as both.
/// </summary>
public sealed class UnresponsiveServerTests
{
    /// <summary>
    /// Completes every handshake, then reads requests and answers none; with <c>hangUp</c>, the first request stops the
    /// listener and closes the connection instead (a server killed mid-call).
    /// </summary>
    private sealed class StalledServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<Socket> _sockets = [];
        private readonly Task _loop;
        private readonly bool _hangUp;
        private readonly bool _deaf;
        public int Hellos;
        public int Requests;

        /// <param name="hangUp">The first request stops the listener and closes the connection.</param>
        /// <param name="deaf">After the handshake nothing more is read: the client's sends block once the buffers fill.</param>
        public StalledServer(bool hangUp = false, bool deaf = false)
        {
            _hangUp = hangUp;
            _deaf = deaf;
            _listener.Start();
            _loop = Task.Run(AcceptAsync);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        private async Task AcceptAsync()
        {
            while (true)
            {
                Socket socket;
                try { socket = await _listener.AcceptSocketAsync(); }
                catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException) { return; }
                lock (_sockets) _sockets.Add(socket);
                _ = Task.Run(async () =>
                {
                    using var stream = new NetworkStream(socket, ownsSocket: true);
                    try
                    {
                        var (_, helloId, hello) = await ProtocolVersionTests.ReadFrameAsync(stream);
                        Interlocked.Increment(ref Hellos);
                        var version = HelloRequest.Read(hello).Version;
                        await stream.WriteAsync(RawConnection.Frame((byte)Opcode.Hello | ProtocolConstants.ResponseBit, helloId, new HelloResponse(version, new ProtocolLimits())));
                        if (_deaf) await Task.Delay(Timeout.Infinite, _stop.Token);
                        while (true)
                        {
                            await ProtocolVersionTests.ReadFrameAsync(stream);
                            Interlocked.Increment(ref Requests);
                            if (!_hangUp) continue;
                            _listener.Stop();
                            return;
                        }
                    }
                    catch (Exception e) when (e is EndOfStreamException or IOException or ObjectDisposedException or OperationCanceledException)
                    {
                    }
                });
            }
        }

        private readonly CancellationTokenSource _stop = new();

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            _listener.Stop();
            lock (_sockets) foreach (var s in _sockets) s.Dispose();
            await _loop;
        }
    }

    /// <summary>
    /// The server counts a request on its own (pool) thread, which a loaded machine may run after the client's deadline:
    /// wait for the count to arrive, then it must be exactly <paramref name="expected"/>.
    /// </summary>
    private static async Task AssertRequests(StalledServer server, int expected)
    {
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); Volatile.Read(ref server.Requests) < expected && clock.Elapsed < TimeSpan.FromSeconds(30);)
            await Task.Delay(10);
        Assert.Equal(expected, Volatile.Read(ref server.Requests));
    }

    private static async Task<T> Within<T>(Task<T> task, int seconds = 30)
    {
        Assert.Same(task, await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(seconds))));
        return await task;
    }

    [Fact]
    public async Task AReadFromAStalledServerTimesOutAndTheNextCallReconnects()
    {
        await using var server = new StalledServer();
        await using var client = await VectorStoreClient.ConnectAsync($"127.0.0.1:{server.Port}", new ClientOptions { RequestTimeout = TimeSpan.FromMilliseconds(300) });
        var search = client.SearchAsync("c", new float[] { 1, 2 });
        var info = client.GetInfoAsync("c");
        var e = await Within(Assert.ThrowsAsync<RequestTimeoutException>(() => search));
        Assert.Contains($"127.0.0.1:{server.Port}", e.Message);
        Assert.Contains("ClientOptions.RequestTimeout", e.Message);
        Assert.Contains("may or may not have been applied", e.Message);
        // The other read on the retired connection runs to its own deadline; it is not re-sent.
        await Within(Assert.ThrowsAsync<RequestTimeoutException>(() => info));
        Assert.Equal(1, server.Hellos);
        // The next call goes out on a new connection.
        await Within(Assert.ThrowsAsync<RequestTimeoutException>(() => client.CollectionNamesAsync()));
        Assert.Equal(2, server.Hellos);
        await AssertRequests(server, 3);
    }

    /// <summary>
    /// Writes and maintenance calls are not bounded, and a read timing out on their connection does not cut them short
    /// (it retires the connection; they run to their end, here a cancellation): a build the server keeps running must
    /// not be reported lost, nor a snapshot sent twice.
    /// </summary>
    [Fact]
    public async Task WritesAndMaintenanceOutliveAReadsTimeoutOnTheirConnection()
    {
        await using var server = new StalledServer();
        await using var client = await VectorStoreClient.ConnectAsync($"127.0.0.1:{server.Port}", new ClientOptions { RequestTimeout = TimeSpan.FromMilliseconds(200) });
        using var cts = new CancellationTokenSource();
        var build = client.BuildIndexAsync("c", cts.Token);
        var snapshot = client.SnapshotAsync(cts.Token);
        var delete = client.DeleteAsync("c", 7, cts.Token);
        await Within(Assert.ThrowsAsync<RequestTimeoutException>(() => client.SearchAsync("c", new float[] { 1, 2 })));
        await Task.Delay(600);
        Assert.False(build.IsCompleted || snapshot.IsCompleted || delete.IsCompleted, "a read's timeout ended a write or a maintenance call");
        await AssertRequests(server, 4); // nothing re-sent
        cts.Cancel();
        foreach (var call in new Task[] { build, snapshot, delete })
            await Within(Assert.ThrowsAnyAsync<OperationCanceledException>(() => call).ContinueWith(t => t.Result));
        Assert.Equal(4, server.Requests);
    }

    /// <summary>
    /// A read queued behind a write whose send is blocked (a server that stopped reading) still ends at its deadline:
    /// it used to wait for the write lock, and so for the write, for ever.
    /// </summary>
    [Fact]
    public async Task AReadQueuedBehindABlockedSendTimesOut()
    {
        await using var server = new StalledServer(deaf: true);
        var client = await VectorStoreClient.ConnectAsync($"127.0.0.1:{server.Port}", new ClientOptions { RequestTimeout = TimeSpan.FromMilliseconds(300) });
        const int rows = 30_000, dim = 384; // 46 MB: far more than the socket buffers hold
        var upsert = client.UpsertBatchAsync("c", Enumerable.Range(0, rows).Select(i => (ulong)i).ToArray(), new VectorMatrix(rows, dim));
        await Task.Delay(300);
        Assert.False(upsert.IsCompleted, "the upsert's send should be blocked on the deaf server");
        // Several at once: each one's lock wait and its expiry race on the same deadline, and the timeout must win
        // every time (a bare OperationCanceledException, with no token cancelled, escaped now and then).
        var searches = Enumerable.Range(0, 16).Select(_ => client.SearchAsync("c", new float[dim])).ToArray();
        foreach (var search in searches)
            await Within(Assert.ThrowsAsync<RequestTimeoutException>(() => search));
        // The blocked write ends when the client closes its connection: lost with it, or refused by the disposed client
        // when its retry asks for a new connection.
        await client.DisposeAsync();
        var e = await Within(Assert.ThrowsAnyAsync<Exception>(() => upsert));
        Assert.True(e is VectorStoreConnectionException or ObjectDisposedException, e.ToString());
    }

    /// <summary><see cref="TimeSpan.MaxValue"/>, a common way to say "no limit", means never (it used to fail every call).</summary>
    [Fact]
    public async Task ATimeoutBeyondWhatATimerTakesMeansNever()
    {
        await using var server = new StalledServer();
        await using var client = await VectorStoreClient.ConnectAsync($"127.0.0.1:{server.Port}", new ClientOptions { RequestTimeout = TimeSpan.MaxValue });
        using var cts = new CancellationTokenSource();
        var search = client.SearchAsync("c", new float[] { 1, 2 }, cancellationToken: cts.Token);
        await Task.Delay(300);
        Assert.False(search.IsCompleted);
        cts.Cancel();
        await Within(Assert.ThrowsAnyAsync<OperationCanceledException>(() => search).ContinueWith(t => t.Result));
    }

    /// <summary>
    /// A connection lost mid-call whose retry cannot reconnect says both: the retry's "connection refused" alone used
    /// to hide that the server went away during the call.
    /// </summary>
    [Fact]
    public async Task ALostConnectionWhoseRetryCannotReconnectSaysBoth()
    {
        await using var server = new StalledServer(hangUp: true);
        await using var client = await VectorStoreClient.ConnectAsync($"127.0.0.1:{server.Port}", new ClientOptions { ConnectTimeout = TimeSpan.FromSeconds(2) });
        var e = await Within(Assert.ThrowsAsync<VectorStoreConnectionException>(() => client.GetInfoAsync("c")));
        Assert.StartsWith("connection lost", e.Message);
        Assert.Contains("reconnecting to retry failed", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public async Task ANonPositiveTimeoutIsRefused(int ms)
    {
        await using var server = new StalledServer();
        var e = await Assert.ThrowsAsync<InvalidArgumentException>(() =>
            VectorStoreClient.ConnectAsync($"127.0.0.1:{server.Port}", new ClientOptions { RequestTimeout = TimeSpan.FromMilliseconds(ms) }));
        Assert.Contains("RequestTimeout", e.Message);
    }
}
