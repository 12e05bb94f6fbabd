using System.Net;
using System.Net.Sockets;
using VectorStore.Collections;
using VectorStore.Protocol;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// A stand-in for an older build speaking protocol versions up to <c>version</c>: refuses a newer Hello, accepts its
/// own, then answers Search, UpsertBatch and ListIds after decoding them strictly in that version's layout (so a request written
/// in a newer layout would fail here); any other opcode gets UnknownOpcode, as such a build answers an opcode it lacks.
/// </summary>
internal sealed class OldVersionServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Task _loop;
    private readonly ushort _version;
    private static readonly ProtocolLimits s_limits = new();
    public readonly List<ushort> Hellos = [];
    public readonly List<byte> Requests = [];

    public OldVersionServer(ushort version)
    {
        _version = version;
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private async Task ServeAsync()
    {
        while (true)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var stream = new NetworkStream(socket, ownsSocket: true);
            try
            {
                var (_, helloId, hello) = await ProtocolVersionTests.ReadFrameAsync(stream);
                var version = HelloRequest.Read(hello).Version;
                lock (Hellos) Hellos.Add(version);
                if (version > _version)
                {
                    await stream.WriteAsync(RawConnection.Frame((byte)Opcode.Error, helloId, new ErrorResponse(ErrorCode.UnsupportedVersion, $"this server speaks 1..{_version}")));
                    continue;
                }
                await stream.WriteAsync(RawConnection.Frame((byte)Opcode.Hello | ProtocolConstants.ResponseBit, helloId, new HelloResponse(version, s_limits)));
                while (true)
                {
                    var (op, id, payload) = await ProtocolVersionTests.ReadFrameAsync(stream);
                    lock (Requests) Requests.Add(op);
                    IWireMessage answer = (Opcode)op switch
                    {
                        Opcode.Search => Search(payload, _version),
                        Opcode.UpsertBatch => Upsert(payload, _version),
                        Opcode.ListIds => ListIds(payload, _version),
                        _ => new ErrorResponse(ErrorCode.UnknownOpcode, "not in this stand-in"),
                    };
                    byte responseOp = answer is ErrorResponse ? (byte)Opcode.Error : (byte)(op | ProtocolConstants.ResponseBit);
                    await stream.WriteAsync(RawConnection.Frame(responseOp, id, answer));
                }
            }
            catch (Exception e) when (e is EndOfStreamException or IOException)
            {
            }
        }
    }

    private static IWireMessage ListIds(byte[] payload, ushort version)
    {
        var r = ListIdsRequest.Read(payload, s_limits, version);
        return new IdsResponse([.. new ulong[] { 3, 5, 8 }.Where(id => id > (r.After ?? 0)).Take(r.Limit)], false);
    }

    private static IWireMessage Search(byte[] payload, ushort version)
    {
        var query = SearchRequest.ReadSingle(payload, s_limits, out _, out _, version);
        return new SearchResponse([[new SearchHit(42, query[0])]], version);
    }

    private static IWireMessage Upsert(byte[] payload, ushort version)
    {
        UpsertBatchRequest.Read(payload, s_limits, version);
        return EmptyResponse.Instance;
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _loop.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
