using System.Buffers.Binary;
using System.IO.Hashing;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using VectorStore.Client;
using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Protocol;
using VectorStore.Server;

namespace VectorStore.Tests.Protocol;

/// <summary>An in-memory database served on 127.0.0.1 with short timeouts, for protocol tests.</summary>
internal sealed class LiveServer : IAsyncDisposable
{
    public const string Token = "s3cret-token";

    private LiveServer(VectorDatabase db, VectorStoreServer server)
    {
        Database = db;
        Server = server;
    }

    public VectorDatabase Database { get; }

    public VectorStoreServer Server { get; }

    public int Port => Server.LocalEndPoint!.Port;

    public static LiveServer Start(Func<ServerOptions, ServerOptions>? configure = null, VectorDatabase? db = null)
    {
        db ??= VectorDatabase.CreateInMemory();
        var options = new ServerOptions
        {
            Token = System.Text.Encoding.UTF8.GetBytes(Token),
            // Far below the server's defaults, far above a loaded machine's stalls (a full GC, a starved pool): the
            // tests about these deadlines set their own, shorter ones.
            HandshakeTimeout = TimeSpan.FromSeconds(10),
            FrameTimeout = TimeSpan.FromSeconds(10),
            WriteTimeout = TimeSpan.FromSeconds(5),
            IdleTimeout = TimeSpan.FromSeconds(30),
            SweepInterval = TimeSpan.FromMilliseconds(100),
            DrainTimeout = TimeSpan.FromSeconds(5),
        };
        if (configure is not null) options = configure(options);
        var server = new VectorStoreServer(db, options);
        server.Start();
        return new LiveServer(db, server);
    }

    public Task<VectorStoreClient> ConnectAsync(ClientOptions? options = null) =>
        VectorStoreClient.ConnectAsync("127.0.0.1", Port, options ?? new ClientOptions { Token = System.Text.Encoding.UTF8.GetBytes(Token) });

    /// <summary>A collection of synthetic clustered vectors with payloads, trained.</summary>
    public static Collection Populate(VectorDatabase db, string name, int count, int dim, string compression = "sq8", Metric metric = Metric.L2, bool train = true)
    {
        var c = db.CreateCollection(name, new CollectionOptions { Dimension = dim, Metric = metric, Compression = compression, TrainingThreshold = 1_000_000 });
        var data = SyntheticData.Clustered(count, dim, seed: 7);
        var ids = Enumerable.Range(0, count).Select(i => (ulong)i * 3 + 1).ToArray();
        var payloads = ids.Select(id => id % 5 == 0 ? null : BitConverter.GetBytes(id)).ToArray();
        c.UpsertBatch(ids, data, payloads);
        if (train) c.BuildIndex();
        return c;
    }

    /// <summary>
    /// The checksum of what <c>export</c> writes (every live vector in ascending id order at full precision, the
    /// ids) plus payloads: equal before and after an attack means the data are unchanged.
    /// </summary>
    public static ulong ExportChecksum(VectorDatabase db)
    {
        var h = new XxHash64();
        Span<byte> b = stackalloc byte[8];
        foreach (var name in db.CollectionNames)
        {
            var c = db.GetCollection(name);
            h.Append(System.Text.Encoding.UTF8.GetBytes(name));
            foreach (var id in c.Ids())
            {
                var rec = c.Get(id)!;
                BinaryPrimitives.WriteUInt64LittleEndian(b, id);
                h.Append(b);
                h.Append(MemoryMarshal.AsBytes(rec.Vector.AsSpan()));
                h.Append(rec.Payload);
            }
        }
        return h.GetCurrentHashAsUInt64();
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Database.Dispose();
    }
}

/// <summary>A raw socket speaking (or abusing) the protocol byte by byte.</summary>
internal sealed class RawConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    private RawConnection(Socket socket)
    {
        _socket = socket;
        _socket.NoDelay = true;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    public static async Task<RawConnection> OpenAsync(int port, bool handshake = false, string token = LiveServer.Token)
    {
        var s = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync("127.0.0.1", port);
        var c = new RawConnection(s);
        if (handshake)
        {
            await c.SendAsync(Opcode.Hello, 0, new HelloRequest(ProtocolConstants.Version, System.Text.Encoding.UTF8.GetBytes(token)));
            var (op, _, _) = await c.ReadFrameAsync();
            if (op != ((byte)Opcode.Hello | ProtocolConstants.ResponseBit)) throw new InvalidOperationException($"handshake answered 0x{op:X2}");
        }
        return c;
    }

    public static byte[] Frame(byte opcode, uint id, IWireMessage message)
    {
        var w = new System.Buffers.ArrayBufferWriter<byte>();
        FrameWriter.Write(w, opcode, id, message);
        return w.WrittenSpan.ToArray();
    }

    public Task SendAsync(Opcode opcode, uint id, IWireMessage message) => SendRawAsync(Frame((byte)opcode, id, message));

    public async Task SendRawAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Reads one frame; throws <see cref="EndOfStreamException"/> if the server closed first, <see cref="TimeoutException"/> after 10 s.</summary>
    public async Task<(byte Opcode, uint RequestId, byte[] Payload)> ReadFrameAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var header = new byte[ProtocolConstants.HeaderSize];
        await ReadExactlyAsync(header, cts.Token);
        var h = FrameParser.ParseHeader(header, int.MaxValue);
        var payload = new byte[h.PayloadLength];
        await ReadExactlyAsync(payload, cts.Token);
        return (h.Opcode, h.RequestId, payload);
    }

    private async Task ReadExactlyAsync(byte[] buffer, CancellationToken ct)
    {
        int got = 0;
        try
        {
            while (got < buffer.Length)
            {
                int n = await _stream.ReadAsync(buffer.AsMemory(got), ct);
                if (n == 0) throw new EndOfStreamException("server closed the connection");
                got += n;
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("no frame within the timeout");
        }
        catch (IOException e) when (e.InnerException is SocketException)
        {
            throw new EndOfStreamException("server reset the connection", e);
        }
    }

    /// <summary>Reads an error frame and returns its payload; fails on anything else.</summary>
    public async Task<ErrorResponse> ReadErrorAsync()
    {
        var (op, _, payload) = await ReadFrameAsync();
        if (op != (byte)Opcode.Error) throw new InvalidOperationException($"expected an error frame, got 0x{op:X2}");
        return ErrorResponse.Read(payload);
    }

    /// <summary>True when the server closes the connection within <paramref name="timeout"/> (frames before the close are skipped).</summary>
    public async Task<bool> ClosedByServerAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var buf = new byte[4096];
        while (DateTime.UtcNow < deadline)
        {
            using var cts = new CancellationTokenSource(deadline - DateTime.UtcNow);
            try
            {
                if (await _stream.ReadAsync(buf, cts.Token) == 0) return true;
            }
            catch (OperationCanceledException) { return false; }
            catch (IOException) { return true; }
        }
        return false;
    }

    public void Dispose() => _stream.Dispose();
}

/// <summary>A payload sent as given, for requests a correct writer could not produce.</summary>
internal sealed class RawPayload(byte[] bytes) : IWireMessage
{
    public int PayloadSize => bytes.Length;

    public void Write(ref WireWriter w) => w.Bytes(bytes);
}
