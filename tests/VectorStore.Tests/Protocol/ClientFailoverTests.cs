using System.Net;
using System.Net.Sockets;
using VectorStore.Client;
using VectorStore.Collections;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// A client given several server addresses (the gateways of one cluster): it connects to the first that answers,
/// moves to the next when its server goes away, says which one it is on, and fails with one clear error naming all of
/// them when none answers; a bad address list is refused before any connection.
/// </summary>
public class ClientFailoverTests
{
    private static ClientOptions Options => new() { Token = System.Text.Encoding.UTF8.GetBytes(LiveServer.Token), ConnectTimeout = TimeSpan.FromSeconds(2) };

    /// <summary>
    /// A loopback port that refuses connections for as long as it is held: bound but never listening, so a connect
    /// gets a reset and no other process can start listening on it meanwhile (a port bound and then released could be
    /// taken by another test's server before the client tries it).
    /// </summary>
    private sealed class DeadPort : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

        public DeadPort() => _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        public int Port => ((IPEndPoint)_socket.LocalEndPoint!).Port;

        public void Dispose() => _socket.Dispose();
    }

    [Fact]
    public async Task TheClientSkipsADeadAddressAndFailsOverWhenItsServerGoesAway()
    {
        var first = LiveServer.Start();
        await using var second = LiveServer.Start();
        LiveServer.Populate(first.Database, "c", 50, 4, compression: "none");
        LiveServer.Populate(second.Database, "c", 70, 4, compression: "none");
        using var deadPort = new DeadPort();
        int dead = deadPort.Port;
        await using var client = await VectorStoreClient.ConnectAsync($"127.0.0.1:{dead}, 127.0.0.1:{first.Port},127.0.0.1:{second.Port}", Options);
        Assert.Equal(("127.0.0.1", first.Port), client.CurrentEndpoint);
        Assert.Equal(50, (await client.GetInfoAsync("c")).Stats.Count);

        await first.DisposeAsync(); // the gateway goes away: the next idempotent call reconnects to the next address
        Assert.Equal(70, (await client.GetInfoAsync("c")).Stats.Count);
        Assert.Equal(("127.0.0.1", second.Port), client.CurrentEndpoint);
        var c = second.Database.GetCollection("c");
        ulong id = c.Ids()[5];
        var hits = await client.SearchAsync("c", c.Get(id)!.Vector, new SearchOptions { K = 1 });
        Assert.Equal(id, hits[0].Id);
    }

    [Fact]
    public async Task WhenNoAddressAnswersTheErrorNamesThemAll()
    {
        using DeadPort deadA = new(), deadB = new();
        int a = deadA.Port, b = deadB.Port;
        var e = await Assert.ThrowsAsync<VectorStoreConnectionException>(() => VectorStoreClient.ConnectAsync($"127.0.0.1:{a},127.0.0.1:{b}", Options));
        Assert.Contains($"none of the 2 servers answered (127.0.0.1:{a}, 127.0.0.1:{b})", e.Message, StringComparison.Ordinal);
        // One address: the connection error as before, not wrapped.
        await Assert.ThrowsAsync<VectorStoreConnectionException>(() => VectorStoreClient.ConnectAsync($"127.0.0.1:{a}", Options));
    }

    [Fact]
    public async Task AWrongTokenIsNotAnOutageAndBadListsAreRefused()
    {
        await using var live = LiveServer.Start();
        using var deadPort = new DeadPort();
        int dead = deadPort.Port;
        // The token is a setup error: it surfaces at once instead of being tried against every gateway.
        await Assert.ThrowsAsync<AuthenticationFailedException>(() => VectorStoreClient.ConnectAsync($"127.0.0.1:{live.Port},127.0.0.1:{dead}",
            new ClientOptions { Token = "wrong"u8.ToArray() }));
        foreach (var bad in new[] { "", "127.0.0.1", "127.0.0.1:1,", "127.0.0.1:1,host:0", "a:70000" })
            Assert.Throws<InvalidArgumentException>(() => VectorStoreClient.ParseEndpoints(bad));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => VectorStoreClient.ConnectToAnyAsync([]));
        Assert.Equal([("h1", 1), ("::1", 2)], VectorStoreClient.ParseEndpoints("h1:1, [::1]:2"));
    }
}
