using System.Net;
using VectorStore.Protocol;

namespace VectorStore.Server;

/// <summary>Settings of a <see cref="VectorStoreServer"/>, with documented defaults. Immutable once the server starts.</summary>
public sealed record ServerOptions
{
    /// <summary>Address and port to listen on. Default 127.0.0.1, port 0 (an ephemeral port; read <see cref="VectorStoreServer.LocalEndPoint"/>).</summary>
    public IPEndPoint EndPoint { get; init; } = new(IPAddress.Loopback, 0);

    /// <summary>Token every client must present in Hello; null accepts any client. Compared in constant time.</summary>
    public byte[]? Token { get; init; }

    /// <summary>Limits enforced per request and announced to clients.</summary>
    public ProtocolLimits Limits { get; init; } = new();

    /// <summary>Most open connections; further ones are closed at once. Default 1024.</summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>Time a new connection has to complete the handshake. Default 5 s.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A connection with no request in flight and no bytes received for this long is closed. Default 5 min.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Time a started frame has to arrive completely (defeats clients that stall mid-frame). Default 10 s.</summary>
    public TimeSpan FrameTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time one response write may take (defeats clients that stop reading). Default 30 s.</summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long shutdown waits for in-flight requests before closing connections. Default 10 s.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Threads one SearchBatch request may use (0 = all cores, as in-process). Default 0.</summary>
    public int BatchSearchThreads { get; init; }

    /// <summary>
    /// Makes every acknowledged write durable (Flush opcode, and at shutdown). Null = the Flush opcode answers
    /// <see cref="ErrorCode.NotSupported"/>.
    /// </summary>
    public Action<VectorDatabase>? Flush { get; init; }

    /// <summary>Writes a snapshot (Snapshot opcode, and at shutdown). Null = the Snapshot opcode answers <see cref="ErrorCode.NotSupported"/>.</summary>
    public Action<VectorDatabase>? Snapshot { get; init; }

    /// <summary>Receives diagnostic lines (unexpected failures, rejected connections). Default: none.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>How often timeouts are checked. Default 250 ms.</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromMilliseconds(250);
}
