using System.Net;
using System.Net.Sockets;
using VectorStore.Client;
using VectorStore.Protocol;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// A server that stops answering. Past <see cref="ClientOptions.RequestTimeout"/>, one that accepts requests and never
/// answers (stalled, or a connection dropped without a reset) fails a call that has no token, the connection is
/// closed and the next call reconnects; maintenance calls are not bounded by it. One that hangs up mid-call and cannot
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
        public int Hellos;
        public int Requests;

        public StalledServer(bool hangUp = false)
        {
            _hangUp = hangUp;
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
                        while (true)
                        {
                            await ProtocolVersionTests.ReadFrameAsync(stream);
                            Interlocked.Increment(ref Requests);
                            if (!_hangUp) continue;
                            _listener.Stop();
                            return;
                        }
                    }
                    catch (Exception e) when (e is EndOfStreamException or IOException or ObjectDisposedException)
                    {
                    }
                });
            }
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            lock (_sockets) foreach (var s in _sockets) s.Dispose();
            await _loop;
        }
    }

    private static async Task<T> Within<T>(Task<T> task, int seconds = 30)
    {
        Assert.Same(task, await Task.WhenAny(task, Task.Delay(TimeSpan.FromSeconds(seconds))));
        return await task;
    }

    [Fact]
    public async Task ACallToAStalledServerTimesOutAndTheNextCallReconnects()
    {
        await using var server = new StalledServer();
        await using var client = await VectorStoreClient.ConnectAsync($"127.0.0.1:{server.Port}", new ClientOptions { RequestTimeout = TimeSpan.FromMilliseconds(300) });
        var search = client.SearchAsync("c", new float[] { 1, 2 });
        var other = client.GetInfoAsync("c");
        var e = await Within(Assert.ThrowsAsync<RequestTimeoutException>(() => search));
        Assert.Contains($"127.0.0.1:{server.Port}", e.Message);
        Assert.Contains("ClientOptions.RequestTimeout", e.Message);
        Assert.Contains("may or may not have been applied", e.Message);
        // The other request on the closed connection is retried on a new one (it is idempotent), and times out there.
        await Within(Assert.ThrowsAsync<RequestTimeoutException>(() => other));
        Assert.True(server.Hellos >= 2, $"{server.Hellos} handshakes: the timed-out connection was reused");
        // A write is never retried: it times out once, in doubt.
        await Within(Assert.ThrowsAsync<RequestTimeoutException>(() => client.DeleteAsync("c", 1)));
    }

    [Fact]
    public async Task MaintenanceCallsAreNotBoundedByIt()
    {
        await using var server = new StalledServer();
        await using var client = await VectorStoreClient.ConnectAsync($"127.0.0.1:{server.Port}", new ClientOptions { RequestTimeout = TimeSpan.FromMilliseconds(200) });
        using var cts = new CancellationTokenSource();
        var snapshot = client.SnapshotAsync(cts.Token);
        await Task.Delay(1_000);
        Assert.False(snapshot.IsCompleted, "a snapshot runs as long as its work takes");
        cts.Cancel();
        await Within(Assert.ThrowsAnyAsync<OperationCanceledException>(() => snapshot).ContinueWith(t => t.Result));
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
