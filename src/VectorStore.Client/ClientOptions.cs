namespace VectorStore.Client;

/// <summary>Settings of a <see cref="VectorStoreClient"/>, with documented defaults. Immutable.</summary>
public sealed record ClientOptions
{
    /// <summary>Auth token sent in Hello; null sends none. Default null.</summary>
    public byte[]? Token { get; init; }

    /// <summary>Time allowed for TCP connect plus handshake. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Time a read or search (ping, list, info, get, list ids, search, generations, drift) may go without its response
    /// before it fails with <see cref="RequestTimeoutException"/>: a stalled server or a connection dropped without a
    /// reset would otherwise hold a call with no cancellation token forever. The connection is then retired: the next
    /// call opens a new one (trying the other endpoints of a list), and the calls already on it run to their own end.
    /// Writes are not bounded by it (the batch that crosses the training threshold trains the codec and builds the index
    /// before it answers: minutes on a large collection, and later writes wait for it), nor are builds, snapshots and
    /// canary runs; pass a token to bound them. <see cref="Timeout.InfiniteTimeSpan"/> (or anything over 49 days, such
    /// as <see cref="TimeSpan.MaxValue"/>): never; zero or negative is refused at connect. Default 100 s (as
    /// <c>HttpClient.Timeout</c>).
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = DefaultRequestTimeout;

    /// <summary>The default of <see cref="RequestTimeout"/>: 100 s.</summary>
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(100);

    /// <summary>
    /// Whether a request that is safe to repeat (reads, searches, upserts, flush) is retried once on a fresh connection
    /// when the connection fails after it was sent. Create, drop, delete, index builds and snapshots are not (a build or
    /// snapshot may still be running on the server; a second would do the work again). A request refused before any
    /// byte of it went out is always sent on a new connection. Default true.
    /// </summary>
    public bool RetryIdempotent { get; init; } = true;

    /// <summary>
    /// Speak TLS (for a server started with <c>--tls-cert</c>). The server's certificate must be valid for the host
    /// name (or <see cref="TlsServerName"/>) and trusted: by the system's trust store, or by <see cref="TlsCaFile"/>
    /// when set. A failure is <see cref="VectorStoreTlsException"/>. Default false; setting <see cref="TlsCaFile"/>
    /// turns it on.
    /// </summary>
    public bool UseTls { get; init; }

    /// <summary>
    /// PEM (one or more certificates) or DER file of the certificates to trust instead of the system store: a CA the
    /// server's certificate chains to, or the server's own (for example self-signed) certificate, pinned. Default null.
    /// </summary>
    public string? TlsCaFile { get; init; }

    /// <summary>Name the server's certificate must carry (and sent as SNI); default the host connected to.</summary>
    public string? TlsServerName { get; init; }

    /// <summary>Largest response frame accepted from the server. Default 1 GiB.</summary>
    public int MaxResponseFrameBytes { get; init; } = 1 << 30;
}
