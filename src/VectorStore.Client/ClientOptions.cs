namespace VectorStore.Client;

/// <summary>Settings of a <see cref="VectorStoreClient"/>, with documented defaults. Immutable.</summary>
public sealed record ClientOptions
{
    /// <summary>Auth token sent in Hello; null sends none. Default null.</summary>
    public byte[]? Token { get; init; }

    /// <summary>Time allowed for TCP connect plus handshake. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether a request that is safe to repeat (reads, searches, upserts, build/flush/snapshot) is retried once on a
    /// fresh connection when the connection fails. Create, drop and delete are never retried. Default true.
    /// </summary>
    public bool RetryIdempotent { get; init; } = true;

    /// <summary>Largest response frame accepted from the server. Default 1 GiB.</summary>
    public int MaxResponseFrameBytes { get; init; } = 1 << 30;
}
