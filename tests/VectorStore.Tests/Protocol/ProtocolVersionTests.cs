using System.Net;
using System.Net.Sockets;
using VectorStore.Client;
using VectorStore.Collections;
using VectorStore.Protocol;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>Version 2 (Info carries bytesOnDisk) next to version 1: negotiation both ways (data-format.md 5.5).</summary>
public class ProtocolVersionTests
{
    private static async Task<(ushort Version, byte[] InfoPayload)> HelloThenInfoAsync(int port, ushort version, string collection)
    {
        using var raw = await RawConnection.OpenAsync(port);
        await raw.SendAsync(Opcode.Hello, 0, new HelloRequest(version, System.Text.Encoding.UTF8.GetBytes(LiveServer.Token)));
        var (op, _, hello) = await raw.ReadFrameAsync();
        Assert.Equal((byte)Opcode.Hello | ProtocolConstants.ResponseBit, op);
        await raw.SendAsync(Opcode.Info, 7, new NameRequest(collection));
        var (infoOp, id, payload) = await raw.ReadFrameAsync();
        Assert.Equal(((byte)Opcode.Info | ProtocolConstants.ResponseBit, 7u), (infoOp, id));
        return (HelloResponse.Read(hello).Version, payload);
    }

    [Fact]
    public async Task ServerAnswersEachVersionWithItsInfoLayout()
    {
        var dir = TestData.TempDir();
        using var db = VectorDatabase.Open(dir);
        LiveServer.Populate(db, "c", 300, 8);
        long onDisk = db.DiskBytes("c");
        Assert.True(onDisk > 0);
        await using var live = LiveServer.Start(db: db);

        var (v2, p2) = await HelloThenInfoAsync(live.Port, 2, "c");
        Assert.Equal((ushort)2, v2);
        var info2 = InfoResponse.Read(p2, 2);
        Assert.Equal(300, info2.Stats.Count);
        Assert.Equal(onDisk, info2.BytesOnDisk);

        var (v1, p1) = await HelloThenInfoAsync(live.Port, 1, "c");
        Assert.Equal((ushort)1, v1);
        Assert.Equal(p2.Length - 8, p1.Length);
        var info1 = InfoResponse.Read(p1, 1);
        Assert.Equal(info2.Stats, info1.Stats);
        Assert.Null(info1.BytesOnDisk);

        await using var client = await live.ConnectAsync();
        Assert.Equal(onDisk, (await client.GetInfoAsync("c")).BytesOnDisk);
    }

    [Fact]
    public async Task InMemoryServerReportsZeroBytesOnDiskAndRefusesUnknownVersions()
    {
        await using var live = LiveServer.Start();
        LiveServer.Populate(live.Database, "m", 50, 4);
        await using (var client = await live.ConnectAsync())
            Assert.Equal(0L, (await client.GetInfoAsync("m")).BytesOnDisk);

        foreach (ushort bad in new ushort[] { 0, ProtocolConstants.Version + 1 })
        {
            using var raw = await RawConnection.OpenAsync(live.Port);
            await raw.SendAsync(Opcode.Hello, 0, new HelloRequest(bad, System.Text.Encoding.UTF8.GetBytes(LiveServer.Token)));
            Assert.Equal(ErrorCode.UnsupportedVersion, (await raw.ReadErrorAsync()).Code);
            Assert.True(await raw.ClosedByServerAsync(TimeSpan.FromSeconds(5)));
        }
    }

    /// <summary>A stand-in for an old build: refuses Hello version 2 as a version-1 server does, then serves Info in layout 1.</summary>
    [Fact]
    public async Task ClientFallsBackToVersion1AgainstAnOldServer()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var seen = new List<ushort>();
        var fake = Task.Run(async () =>
        {
            while (true)
            {
                using var socket = await listener.AcceptSocketAsync();
                using var stream = new NetworkStream(socket);
                var (op, helloId, hello) = await ReadFrameAsync(stream);
                Assert.Equal((byte)Opcode.Hello, op);
                var version = HelloRequest.Read(hello).Version;
                seen.Add(version);
                if (version != 1)
                {
                    await stream.WriteAsync(RawConnection.Frame((byte)Opcode.Error, helloId, new ErrorResponse(ErrorCode.UnsupportedVersion, "this server speaks 1")));
                    continue;
                }
                await stream.WriteAsync(RawConnection.Frame((byte)Opcode.Hello | ProtocolConstants.ResponseBit, helloId, new HelloResponse(1, new ProtocolLimits())));
                var buffer = new byte[ProtocolConstants.HeaderSize];
                await stream.ReadExactlyAsync(buffer);
                var h = FrameParser.ParseHeader(buffer, int.MaxValue);
                await stream.ReadExactlyAsync(new byte[h.PayloadLength]);
                var info = new InfoResponse(new CollectionOptions { Dimension = 4, Metric = Metric.L2, Compression = "none" },
                    new CollectionStats { Count = 9, Dimension = 4, Compression = "none", Index = "flat" }, BytesOnDisk: null);
                await stream.WriteAsync(RawConnection.Frame((byte)Opcode.Info | ProtocolConstants.ResponseBit, h.RequestId, info));
                await stream.FlushAsync();
                // Hold the connection until the client hangs up.
                _ = await stream.ReadAsync(new byte[1]);
                return;
            }
        });

        await using (var client = await VectorStoreClient.ConnectAsync("127.0.0.1", port))
        {
            var info = await client.GetInfoAsync("anything");
            Assert.Equal(9, info.Stats.Count);
            Assert.Null(info.BytesOnDisk);
        }
        await fake.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([(ushort)10, (ushort)9, (ushort)8, (ushort)7, (ushort)6, (ushort)5, (ushort)4, (ushort)3, (ushort)2, (ushort)1], seen);
    }

    internal static async Task<(byte Opcode, uint RequestId, byte[] Payload)> ReadFrameAsync(NetworkStream stream)
    {
        var header = new byte[ProtocolConstants.HeaderSize];
        await stream.ReadExactlyAsync(header);
        var h = FrameParser.ParseHeader(header, int.MaxValue);
        var payload = new byte[h.PayloadLength];
        await stream.ReadExactlyAsync(payload);
        return (h.Opcode, h.RequestId, payload);
    }
}
