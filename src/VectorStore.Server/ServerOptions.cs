using System.Net;
using System.Security.Cryptography.X509Certificates;
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

    /// <summary>
    /// Most authenticated connections. While they are all taken a new connection is closed at once, and a handshake
    /// that completes anyway is answered <see cref="ErrorCode.LimitExceeded"/>. Connections still in the handshake do
    /// not count here (see <see cref="MaxUnauthenticatedConnections"/>). Default 1024.
    /// </summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>
    /// Most connections still in the handshake (TLS and Hello). When they are all taken, the oldest one is closed to
    /// admit the new one: an honest client authenticates within a round trip or two, so a flood of silent sockets
    /// cannot keep it out, and it never takes the place of an authenticated client. Default 64.
    /// </summary>
    public int MaxUnauthenticatedConnections { get; init; } = 64;

    /// <summary>
    /// Bytes all in-flight requests together may hold. Each request is charged twice its payload (the received bytes
    /// and their decoded form) from the moment its frame header arrives until its response is written, and each
    /// response its size while it is written. While the budget is spent connections stop reading their sockets (TCP
    /// flow control pushes back on clients); a frame whose charge exceeds the whole budget is refused with
    /// <see cref="ErrorCode.LimitExceeded"/>, and the frame limit announced in Hello is lowered to what fits. Fixed
    /// per-connection buffers (about 128 KiB) are not counted. At least 1 MiB. Default 256 MiB.
    /// </summary>
    public long MemoryBudgetBytes { get; init; } = 256L << 20;

    /// <summary>
    /// Certificate (with its private key) the server presents; non-null makes every connection TLS (the frames inside
    /// are unchanged, data-format.md section 5.6). Load one with <see cref="ServerCertificates.Load"/>. Default null
    /// (plain TCP).
    /// </summary>
    public X509Certificate2? TlsCertificate { get; init; }

    /// <summary>Time a new connection has to complete the handshake (TLS and Hello). Default 5 s.</summary>
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

    /// <summary>
    /// Writes a snapshot at shutdown. Null = the Snapshot opcode answers <see cref="ErrorCode.NotSupported"/>; otherwise
    /// that opcode compacts every collection (what a client's compaction sends), reclaiming deleted and overwritten vectors.
    /// </summary>
    public Action<VectorDatabase>? Snapshot { get; init; }

    /// <summary>
    /// Where the Backup opcode writes (<c>serve --backup-dir</c>): a request names one new directory under it, a plain
    /// name, so a client can neither write elsewhere on the server nor over an earlier backup. Null (the default) = the
    /// Backup opcode answers <see cref="ErrorCode.NotSupported"/>; so does a server over an in-memory database or a
    /// gateway.
    /// </summary>
    public string? BackupDirectory { get; init; }

    /// <summary>Receives diagnostic lines (unexpected failures, rejected connections). Default: none.</summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// After this long without a request (and none in flight), one full compacting collection returns the last
    /// burst's garbage to the operating system (at most once per idle period, only after traffic). Work that reaches
    /// the process otherwise, such as a silo's grain calls, counts through its allocation: 32 MiB allocated since the
    /// last trim, then this long at under 1 MiB/s, also trims. It collects the
    /// whole process, so it is off by default (<see cref="TimeSpan.Zero"/>) for a server embedded in an application;
    /// <c>vectorstore serve</c> and <c>silo</c>, which own their process, turn it on (<c>--idle-trim</c>, 10 s).
    /// </summary>
    public TimeSpan IdleTrimDelay { get; init; }

    /// <summary>Bytes allocated since the last idle trim that make one due without a request (tests turn it off with <see cref="long.MaxValue"/>). Default 32 MiB.</summary>
    internal long IdleTrimAllocationBytes { get; init; } = IdleTrim.DefaultAllocationBytes;

    /// <summary>How often timeouts are checked. Default 250 ms.</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromMilliseconds(250);
}
