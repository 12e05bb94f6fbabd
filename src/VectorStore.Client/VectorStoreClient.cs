using VectorStore.Collections;
using VectorStore.Filtering;
using VectorStore.Lifecycle;
using VectorStore.Protocol;

namespace VectorStore.Client;

/// <summary>
/// Async client for a VectorStore server, mirroring the in-process <c>VectorDatabase</c> and
/// <c>Collection</c> API (methods take the collection name). One TCP connection is reused and shared:
/// concurrent calls are pipelined on it and complete in any order. When it fails, the next call reconnects;
/// requests that are safe to repeat are retried once (<see cref="ClientOptions.RetryIdempotent"/>). Error frames
/// become the same typed exceptions the in-process API throws (<see cref="InvalidArgumentException"/>,
/// <see cref="InvalidVectorException"/>) or <see cref="LimitExceededException"/>, <see cref="RemoteErrorException"/>,
/// <see cref="AuthenticationFailedException"/>; a lost connection is <see cref="VectorStoreConnectionException"/>.
/// The compression-lifecycle calls (<see cref="ICompressionLifecycleClient"/>) need a server that speaks protocol
/// version 5: an older one gets <see cref="InvalidArgumentException"/> before anything is sent; a server whose database
/// has no generations (a cluster gateway) answers <see cref="RemoteErrorException"/> with <see cref="ErrorCode.NotSupported"/>.
/// </summary>
/// <remarks>Thread-safety: every member may be called concurrently from any thread.</remarks>
public sealed class VectorStoreClient : IIndexBuildingClient, ICompressionLifecycleClient
{
    private readonly (string Host, int Port)[] _endpoints;
    // The endpoint of the current (or last) connection: a reconnect tries it first, then the others in turn.
    private int _current;
    private readonly ClientOptions _options;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private ClientConnection? _connection;
    private bool _disposed;

    private VectorStoreClient((string Host, int Port)[] endpoints, ClientOptions options)
    {
        _endpoints = endpoints;
        _options = options;
    }

    /// <summary>Connects and completes the handshake; throws <see cref="VectorStoreConnectionException"/> or <see cref="AuthenticationFailedException"/>.</summary>
    public static Task<VectorStoreClient> ConnectAsync(string host, int port, ClientOptions? options = null, CancellationToken cancellationToken = default) =>
        ConnectToAnyAsync([(host, port)], options, cancellationToken);

    /// <summary>
    /// Connects to the first of <paramref name="endpoints"/> that answers: servers that serve the same data, such as
    /// the gateways of one cluster. Whenever the connection is lost, the next call reconnects, trying the endpoint it
    /// was on first and then the others in turn (each within <see cref="ClientOptions.ConnectTimeout"/>), so a client
    /// outlives any one gateway. <see cref="VectorStoreConnectionException"/> when none answers;
    /// <see cref="AuthenticationFailedException"/> at once when one refuses the token (a setup error, not an outage).
    /// </summary>
    public static async Task<VectorStoreClient> ConnectToAnyAsync(IReadOnlyList<(string Host, int Port)> endpoints, ClientOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        if (endpoints.Count == 0) throw new InvalidArgumentException("at least one server address is needed");
        options ??= new ClientOptions();
        if (options.RequestTimeout <= TimeSpan.Zero && options.RequestTimeout != Timeout.InfiniteTimeSpan)
            throw new InvalidArgumentException($"ClientOptions.RequestTimeout must be positive (or Timeout.InfiniteTimeSpan: never), got {options.RequestTimeout}");
        var client = new VectorStoreClient([.. endpoints], options);
        await client.GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        return client;
    }

    /// <summary>Connects to <c>HOST:PORT</c>, or to the first that answers of a comma-separated list of them (<see cref="ParseEndpoints"/>).</summary>
    public static Task<VectorStoreClient> ConnectAsync(string hostAndPort, ClientOptions? options = null, CancellationToken cancellationToken = default) =>
        ConnectToAnyAsync(ParseEndpoints(hostAndPort), options, cancellationToken);

    /// <summary>Splits <c>HOST:PORT[,HOST:PORT…]</c>; throws <see cref="InvalidArgumentException"/> naming the bad entry.</summary>
    public static (string Host, int Port)[] ParseEndpoints(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Split(',', StringSplitOptions.TrimEntries).Select(ParseHostPort).ToArray();
    }

    /// <summary>The server address of the current connection (the one the next call uses first).</summary>
    public (string Host, int Port) CurrentEndpoint => _endpoints[Volatile.Read(ref _current)];

    /// <summary>Splits <c>HOST:PORT</c> (IPv6 as <c>[::1]:PORT</c>); throws <see cref="InvalidArgumentException"/>.</summary>
    public static (string Host, int Port) ParseHostPort(string text)
    {
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out int port) || port is <= 0 or > 65535)
            throw new InvalidArgumentException($"expected HOST:PORT, got '{text}'");
        return (text[..colon].Trim('[', ']'), port);
    }

    /// <summary>The limits the server announced in its handshake.</summary>
    public ProtocolLimits ServerLimits => _connection?.ServerLimits ?? new ProtocolLimits();

    /// <inheritdoc />
    /// <remarks>The frame and batch limits the server announced: requests may fill a frame, responses the server's response cap.</remarks>
    public TransferLimits Limits
    {
        get
        {
            var l = ServerLimits;
            return new TransferLimits { MaxBatch = l.MaxBatch, MaxRequestBytes = l.MaxFrameBytes, MaxResponseBytes = l.MaxResponseBytes };
        }
    }

    private async ValueTask<ClientConnection> GetConnectionAsync(CancellationToken ct)
    {
        var c = _connection;
        if (c is not null && !c.IsFaulted) return c;
        await _connectLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is { IsFaulted: false } current) return current;
            if (_connection is not null) _draining.Add(_connection);
            _connection = null;
            await DisposeIdleAsync(_draining).ConfigureAwait(false);
            VectorStoreConnectionException? last = null;
            for (int tried = 0; tried < _endpoints.Length; tried++)
            {
                int at = (_current + tried) % _endpoints.Length;
                try
                {
                    _connection = await ClientConnection.ConnectAsync(_endpoints[at].Host, _endpoints[at].Port, _options, ct).ConfigureAwait(false);
                    Volatile.Write(ref _current, at);
                    return _connection;
                }
                catch (VectorStoreConnectionException e) when (_endpoints.Length > 1)
                {
                    last = e;
                }
            }
            throw new VectorStoreConnectionException(
                $"none of the {_endpoints.Length} servers answered ({string.Join(", ", _endpoints.Select(e => $"{e.Host}:{e.Port}"))}); last: {last!.Message}", last);
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <summary>
    /// Connections replaced after a timed-out request that still carry requests without a deadline (a build, a
    /// snapshot): kept until those end, then disposed. Under <see cref="_connectLock"/>.
    /// </summary>
    private readonly List<ClientConnection> _draining = [];

    /// <summary>Disposes the connections of <paramref name="connections"/> that carry no request any more (all of them with <paramref name="all"/>).</summary>
    private static async Task DisposeIdleAsync(List<ClientConnection> connections, bool all = false)
    {
        for (int i = connections.Count - 1; i >= 0; i--)
        {
            if (!all && !connections[i].IsIdle) continue;
            await connections[i].DisposeAsync().ConfigureAwait(false);
            connections.RemoveAt(i);
        }
    }

    private async Task<byte[]> CallAsync(Opcode opcode, IWireMessage request, bool idempotent, CancellationToken ct) =>
        (await CallVersionedAsync(opcode, _ => request, idempotent, ct).ConfigureAwait(false)).Payload;

    /// <summary>The longest deadline a timer takes (about 49.7 days); a longer <see cref="ClientOptions.RequestTimeout"/>, such as <see cref="TimeSpan.MaxValue"/>, means never.</summary>
    private static readonly TimeSpan LongestDeadline = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>
    /// The requests <see cref="ClientOptions.RequestTimeout"/> bounds: reads and searches. A write can train the codec
    /// and build the index inside the batch that crosses the training threshold (minutes on a large collection, while
    /// later writes wait for it), and builds, snapshots and canary runs take as long as their work.
    /// </summary>
    private static bool IsBounded(Opcode opcode) => opcode is Opcode.Ping or Opcode.ListCollections or Opcode.Info or Opcode.Get
        or Opcode.ListIds or Opcode.Search or Opcode.SearchBatch or Opcode.ListGenerations or Opcode.GetDrift or Opcode.GetLifecyclePolicy;

    /// <summary>
    /// As <see cref="CallAsync"/> for a request whose layout depends on the protocol version: it is built for the
    /// connection that sends it (a retry may reconnect to a server of another version). Also returns that version,
    /// which picks the response's layout.
    /// </summary>
    /// <remarks>
    /// A request refused by its connection before any byte went out (closed or retired meanwhile) is sent on a new one,
    /// whatever it is; one lost after that is sent again only when <paramref name="idempotent"/> (and
    /// <see cref="ClientOptions.RetryIdempotent"/>). A timed-out request is not retried: the server stalled.
    /// </remarks>
    private async Task<(byte[] Payload, ushort Version)> CallVersionedAsync(Opcode opcode, Func<ushort, IWireMessage> request, bool idempotent, CancellationToken ct)
    {
        var timeout = IsBounded(opcode) && _options.RequestTimeout <= LongestDeadline ? _options.RequestTimeout : Timeout.InfiniteTimeSpan;
        RawResponse response;
        ClientConnection connection;
        VectorStoreConnectionException? lost = null;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                connection = await GetConnectionAsync(ct).ConfigureAwait(false);
            }
            catch (VectorStoreConnectionException reconnecting) when (lost is not null)
            {
                // The retry's "connection refused" alone hid what happened first: the connection was lost mid-call.
                throw new VectorStoreConnectionException($"{lost.Message}; reconnecting to retry failed: {reconnecting.Message}", lost);
            }
            try
            {
                response = await connection.SendAsync((byte)opcode, request(connection.Version), timeout, ct).ConfigureAwait(false);
                break;
            }
            catch (ClientConnection.NotSentException e)
            {
                if (attempt >= 3) throw new VectorStoreConnectionException(e.Message, e.InnerException);
            }
            catch (VectorStoreConnectionException e) when (lost is null && idempotent && _options.RetryIdempotent && !ct.IsCancellationRequested)
            {
                lost = e;
            }
        }
        if (response.Opcode == (byte)Opcode.Error) throw RemoteErrors.ToException(ErrorResponse.Read(response.Payload));
        if (response.Opcode != ((byte)opcode | ProtocolConstants.ResponseBit))
            throw new RemoteErrorException(ErrorCode.BadPayload, $"response opcode 0x{response.Opcode:X2} does not answer 0x{(byte)opcode:X2}");
        return (response.Payload, connection.Version);
    }

    private static readonly EmptyPayload s_empty = new();

    private sealed class EmptyPayload : IWireMessage
    {
        public int PayloadSize => 0;

        public void Write(ref WireWriter w) { }
    }

    /// <summary>Round-trips an empty request.</summary>
    public async Task PingAsync(CancellationToken cancellationToken = default) =>
        EmptyResponse.Read(await CallAsync(Opcode.Ping, s_empty, true, cancellationToken).ConfigureAwait(false));

    /// <summary>Creates a collection, as <c>VectorDatabase.CreateCollection</c>.</summary>
    /// <remarks>
    /// Declared fields (<see cref="CollectionOptions.Fields"/>) need a server that speaks protocol version 4; an older one
    /// gets <see cref="InvalidArgumentException"/> before anything is sent.
    /// </remarks>
    public async Task CreateCollectionAsync(string name, CollectionOptions options, CancellationToken cancellationToken = default) =>
        // The options' layout depends on the connection's version (3 carries the raw-vectors residency, 4 the fields).
        EmptyResponse.Read((await CallVersionedAsync(Opcode.CreateCollection, v => new CreateCollectionRequest(name, options, v), false, cancellationToken)
            .ConfigureAwait(false)).Payload);

    /// <summary>Drops a collection, as <c>VectorDatabase.DropCollection</c>; false when it did not exist.</summary>
    public async Task<bool> DropCollectionAsync(string name, CancellationToken cancellationToken = default) =>
        Single(BoolsResponse.Read(await CallAsync(Opcode.DropCollection, new NameRequest(name), false, cancellationToken).ConfigureAwait(false)));

    private static bool Single(BoolsResponse r) =>
        r.Values.Length == 1 ? r.Values[0] : throw new RemoteErrorException(ErrorCode.BadPayload, $"expected one boolean, got {r.Values.Length}");

    /// <summary>Collection names, sorted, as <c>VectorDatabase.CollectionNames</c>.</summary>
    public async Task<IReadOnlyList<string>> CollectionNamesAsync(CancellationToken cancellationToken = default) =>
        NamesResponse.Read(await CallAsync(Opcode.ListCollections, s_empty, true, cancellationToken).ConfigureAwait(false)).Names;

    /// <summary>Options and statistics of a collection (<c>Collection.Options</c>, <c>Collection.GetStats</c>).</summary>
    public async Task<CollectionInfo> GetInfoAsync(string name, CancellationToken cancellationToken = default)
    {
        var request = new NameRequest(name);
        var (payload, version) = await CallVersionedAsync(Opcode.Info, _ => request, true, cancellationToken).ConfigureAwait(false);
        var r = InfoResponse.Read(payload, version);
        return new CollectionInfo(r.Options, r.Stats, r.BytesOnDisk);
    }

    /// <summary>Statistics of a collection, as <c>Collection.GetStats</c>.</summary>
    public async Task<CollectionStats> GetStatsAsync(string name, CancellationToken cancellationToken = default) =>
        (await GetInfoAsync(name, cancellationToken).ConfigureAwait(false)).Stats;

    /// <summary>Live vectors, as <c>Collection.Count</c>.</summary>
    public async Task<int> CountAsync(string name, CancellationToken cancellationToken = default) =>
        (await GetStatsAsync(name, cancellationToken).ConfigureAwait(false)).Count;

    /// <summary>
    /// Inserts or replaces a batch, as <c>Collection.UpsertBatch</c> (validated as a whole before anything
    /// changes; returns once durable on the server). The batch must fit one frame: see <see cref="ServerLimits"/>.
    /// </summary>
    public Task UpsertBatchAsync(string name, IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads = null, CancellationToken cancellationToken = default) =>
        UpsertBatchAsync(name, ids, vectors, payloads, null, cancellationToken);

    /// <summary>
    /// <see cref="UpsertBatchAsync(string, IReadOnlyList{ulong}, VectorMatrix, IReadOnlyList{byte[]}, CancellationToken)"/>
    /// with field values, one set per id (null or empty = none). Needs a server that speaks protocol version 4: an older
    /// one gets <see cref="InvalidArgumentException"/> before anything is sent, rather than the values dropped.
    /// </summary>
    public async Task UpsertBatchAsync(string name, IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads,
        IReadOnlyList<IReadOnlyDictionary<string, Filtering.FieldValue>?>? fields, CancellationToken cancellationToken = default) =>
        EmptyResponse.Read((await CallVersionedAsync(Opcode.UpsertBatch, v => new UpsertBatchRequest(name, ids, vectors, payloads, fields, v), true, cancellationToken)
            .ConfigureAwait(false)).Payload);

    /// <summary>Inserts or replaces one vector, as <c>Collection.Upsert</c>.</summary>
    public Task UpsertAsync(string name, ulong id, ReadOnlyMemory<float> vector, byte[]? payload = null, CancellationToken cancellationToken = default) =>
        UpsertBatchAsync(name, [id], new VectorMatrix(vector.ToArray(), Math.Max(1, vector.Length)), payload is null ? null : [payload], cancellationToken);

    /// <summary>Deletes one id, as <c>Collection.Delete</c>; false when it was not present.</summary>
    public async Task<bool> DeleteAsync(string name, ulong id, CancellationToken cancellationToken = default) =>
        Single(BoolsResponse.Read(await CallAsync(Opcode.Delete, new IdBatchRequest(name, [id]), false, cancellationToken).ConfigureAwait(false)));

    /// <summary>Deletes several ids; per id, whether it was present.</summary>
    public async Task<bool[]> DeleteBatchAsync(string name, IReadOnlyList<ulong> ids, CancellationToken cancellationToken = default) =>
        BoolsResponse.Read(await CallAsync(Opcode.Delete, new IdBatchRequest(name, ids), false, cancellationToken).ConfigureAwait(false)).Values;

    /// <summary>The stored vector and payload of an id, or null, as <c>Collection.Get</c>.</summary>
    public async Task<VectorRecord?> GetAsync(string name, ulong id, CancellationToken cancellationToken = default) =>
        (await GetBatchAsync(name, [id], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>Stored vectors, payloads and (from a version-4 server) field values of several ids (null where absent).</summary>
    public async Task<IReadOnlyList<VectorRecord?>> GetBatchAsync(string name, IReadOnlyList<ulong> ids, CancellationToken cancellationToken = default)
    {
        var request = new IdBatchRequest(name, ids);
        var (payload, version) = await CallVersionedAsync(Opcode.Get, _ => request, true, cancellationToken).ConfigureAwait(false);
        return GetResponse.Read(payload, ids, version).Records;
    }

    /// <summary>Every live id, ascending, as <c>Collection.Ids</c> (fetched in pages).</summary>
    public async Task<ulong[]> IdsAsync(string name, CancellationToken cancellationToken = default)
    {
        var all = new List<ulong>();
        ulong? after = null;
        while (true)
        {
            var page = await ListIdsAsync(name, after, 65_536, cancellationToken).ConfigureAwait(false);
            all.AddRange(page.Ids);
            if (!page.More || page.Ids.Length == 0) return [.. all];
            after = page.Ids[^1];
        }
    }

    /// <inheritdoc />
    public Task<IdPage> ListIdsAsync(string name, ulong? after, int limit, CancellationToken cancellationToken = default) =>
        ListMatchingIdsAsync(name, null, after, limit, cancellationToken);

    /// <inheritdoc />
    /// <remarks>A field filter needs a server that speaks protocol version 6; an older one gets <see cref="InvalidArgumentException"/> before anything is sent.</remarks>
    public async Task<IdPage> ListMatchingIdsAsync(string name, FilterExpression? where, ulong? after, int limit, CancellationToken cancellationToken = default)
    {
        if (limit <= 0) throw new InvalidArgumentException($"limit must be positive, got {limit}");
        var (payload, _) = await CallVersionedAsync(Opcode.ListIds,
            version => new ListIdsRequest(name, after, Math.Min(limit, ServerLimits.MaxBatch), where, version), true, cancellationToken).ConfigureAwait(false);
        var r = IdsResponse.Read(payload);
        return new IdPage(r.Ids, r.More);
    }

    /// <summary>
    /// The best k entries for one query, best first, as <c>Collection.Search</c>. A field filter
    /// (<see cref="SearchFilter.Where"/>) or an <c>Include*</c> flag needs a server that speaks protocol version 4; an
    /// older one gets <see cref="InvalidArgumentException"/> before anything is sent.
    /// </summary>
    public async Task<SearchHit[]> SearchAsync(string name, ReadOnlyMemory<float> query, SearchOptions? options = null, CancellationToken cancellationToken = default)
    {
        var q = new VectorMatrix(query.ToArray(), Math.Max(1, query.Length));
        var results = await SearchCallAsync(Opcode.Search, name, q, options, cancellationToken).ConfigureAwait(false);
        return results.Length == 1 ? results[0] : throw new RemoteErrorException(ErrorCode.BadPayload, $"expected one result list, got {results.Length}");
    }

    /// <summary>Searches every row of <paramref name="queries"/>, as <c>Collection.SearchBatch</c> (the server chooses the threads).</summary>
    public async Task<SearchHit[][]> SearchBatchAsync(string name, VectorMatrix queries, SearchOptions? options = null, CancellationToken cancellationToken = default)
    {
        var results = await SearchCallAsync(Opcode.SearchBatch, name, queries, options, cancellationToken).ConfigureAwait(false);
        return results.Length == queries.Count ? results : throw new RemoteErrorException(ErrorCode.BadPayload, $"{results.Length} result lists for {queries.Count} queries");
    }

    private async Task<SearchHit[][]> SearchCallAsync(Opcode opcode, string name, VectorMatrix queries, SearchOptions? options, CancellationToken ct)
    {
        options ??= new SearchOptions();
        var (payload, version) = await CallVersionedAsync(opcode, v => new SearchRequest(name, options, queries, v), true, ct).ConfigureAwait(false);
        return SearchResponse.Read(payload, version).Results;
    }

    /// <summary>Trains the codec and builds the index now, as <c>Collection.BuildIndex</c>.</summary>
    public async Task BuildIndexAsync(string name, CancellationToken cancellationToken = default) =>
        // Not resent after a lost connection: the server may still be training, and a second request would train again.
        EmptyResponse.Read(await CallAsync(Opcode.BuildIndex, new NameRequest(name), false, cancellationToken).ConfigureAwait(false));

    /// <summary>Makes every acknowledged write durable; <see cref="RemoteErrorException"/> with <see cref="ErrorCode.NotSupported"/> when the server has no storage.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default) =>
        EmptyResponse.Read(await CallAsync(Opcode.Flush, s_empty, true, cancellationToken).ConfigureAwait(false));

    /// <summary>Compacts every collection of the server (a new snapshot of each, its log truncated); <see cref="RemoteErrorException"/> with <see cref="ErrorCode.NotSupported"/> when the server has no storage.</summary>
    public async Task SnapshotAsync(CancellationToken cancellationToken = default) =>
        // Not resent after a lost connection: a second request would snapshot (compact) every collection again.
        EmptyResponse.Read(await CallAsync(Opcode.Snapshot, s_empty, false, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// Has the server write a backup of its database into <paramref name="name"/>, a new directory right under its
    /// backup directory (<c>serve --backup-dir</c>), as <c>VectorDatabase.Backup</c> does in process: every write
    /// acknowledged before the call is in it, and it opens as a database on its own. Returns what the server wrote
    /// (<see cref="BackupResult.Directory"/> is a path on the server's machine). <see cref="RemoteErrorException"/> with
    /// <see cref="ErrorCode.NotSupported"/> when the server takes no backups; <see cref="InvalidArgumentException"/>
    /// for a name that is not a plain directory name or already exists, and before anything is sent when the server
    /// speaks a protocol version below 8. With <paramref name="since"/>, a previous backup's name under the same
    /// directory, it is incremental: files that backup holds unchanged are hard-linked instead of copied
    /// (<see cref="BackupResult.LinkedBytes"/>; <c>BackupOptions.Since</c> in process); refused before anything is sent
    /// when the server speaks a version below 9.
    /// </summary>
    /// <remarks>Not bounded by <see cref="ClientOptions.RequestTimeout"/>, and not resent after a lost connection (the server may still be writing it).</remarks>
    public async Task<BackupResult> BackupAsync(string name, string? since = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        // An empty name means "none" on the wire: refuse it rather than silently take a full backup.
        if (since is not null && string.IsNullOrWhiteSpace(since)) throw new InvalidArgumentException("the previous backup's name (since) is empty; give one, or null for a full backup");
        var (payload, used) = await CallVersionedAsync(Opcode.Backup, version =>
        {
            if (version < ProtocolConstants.BackupVersion)
                throw new InvalidArgumentException($"the server speaks protocol version {version}, which has no backups (version {ProtocolConstants.BackupVersion} has); upgrade the server");
            if (since is not null && version < ProtocolConstants.IncrementalBackupVersion)
                throw new InvalidArgumentException($"the server speaks protocol version {version}, which has no incremental backups (version {ProtocolConstants.IncrementalBackupVersion} has); upgrade the server, or take a full backup");
            return new BackupRequest(name, since, version); // at version 8, the bare name
        }, false, cancellationToken).ConfigureAwait(false);
        return BackupResponse.Read(payload, used).Result;
    }

    /// <inheritdoc />
    /// <remarks>
    /// The protocol has no per-collection compaction: after checking that <paramref name="name"/> exists this sends a
    /// Snapshot, which compacts every collection of the server (this one included): each gets a new snapshot without
    /// its deleted and overwritten vectors, and its log truncated.
    /// </remarks>
    public async Task CompactAsync(string name, CancellationToken cancellationToken = default)
    {
        await GetInfoAsync(name, cancellationToken).ConfigureAwait(false);
        await SnapshotAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The request for a lifecycle call, refused before sending on a connection below version 5 (the server could only
    /// answer that it does not know the opcode).
    /// </summary>
    private static Func<ushort, IWireMessage> Lifecycle(IWireMessage request) => version =>
        version >= ProtocolConstants.LifecycleVersion ? request
            : throw new InvalidArgumentException($"the server speaks protocol version {version}, which has no compression generations (version {ProtocolConstants.LifecycleVersion} has); upgrade the server");

    private async Task<byte[]> LifecycleCallAsync(Opcode opcode, IWireMessage request, bool idempotent, CancellationToken ct) =>
        (await CallVersionedAsync(opcode, Lifecycle(request), idempotent, ct).ConfigureAwait(false)).Payload;

    /// <inheritdoc />
    /// <remarks>Not retried on a lost connection: a second request would declare a second candidate.</remarks>
    public async Task<int> BuildGenerationAsync(string name, string compression, string index, bool wait = true, CancellationToken cancellationToken = default) =>
        Int32Response.Read(await LifecycleCallAsync(Opcode.BuildGeneration, new BuildGenerationRequest(name, compression, index, wait), false, cancellationToken)
            .ConfigureAwait(false)).Value;

    /// <inheritdoc />
    public async Task<IReadOnlyList<GenerationInfo>> ListGenerationsAsync(string name, CancellationToken cancellationToken = default) =>
        GenerationsResponse.Read(await LifecycleCallAsync(Opcode.ListGenerations, new NameRequest(name), true, cancellationToken).ConfigureAwait(false)).Generations;

    /// <inheritdoc />
    /// <remarks>The queries travel as one SearchBatch payload would: they must fit one frame and the server's batch limit.</remarks>
    public async Task<CanaryReport> RunCanaryAsync(string name, int generation, VectorMatrix queries, SearchOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SearchOptions();
        var (payload, _) = await CallVersionedAsync(Opcode.RunCanary,
            v => Lifecycle(new RunCanaryRequest(generation, new SearchRequest(name, options, queries, v)))(v), true, cancellationToken).ConfigureAwait(false);
        return CanaryResponse.Read(payload).Report;
    }

    /// <inheritdoc />
    public async Task StartCanaryAsync(string name, CanarySettings settings, CancellationToken cancellationToken = default) =>
        EmptyResponse.Read(await LifecycleCallAsync(Opcode.StartCanary, new StartCanaryRequest(name, settings), true, cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public async Task StopCanaryAsync(string name, CancellationToken cancellationToken = default) =>
        EmptyResponse.Read(await LifecycleCallAsync(Opcode.StopCanary, new NameRequest(name), true, cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    public async Task SetExposureAsync(string name, int generation, double percent, CancellationToken cancellationToken = default) =>
        EmptyResponse.Read(await LifecycleCallAsync(Opcode.SetExposure, new SetExposureRequest(name, generation, percent), true, cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    /// <remarks>Not retried on a lost connection: the first request may have promoted already, and a retry would then fail.</remarks>
    public async Task PromoteAsync(string name, int generation, PromotionGate? gate = null, CancellationToken cancellationToken = default) =>
        EmptyResponse.Read(await LifecycleCallAsync(Opcode.Promote, new PromoteRequest(name, generation, gate), false, cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    /// <remarks>Not retried on a lost connection: a second rollback would go one generation further back.</remarks>
    public async Task<int> RollbackAsync(string name, CancellationToken cancellationToken = default) =>
        Int32Response.Read(await LifecycleCallAsync(Opcode.Rollback, new NameRequest(name), false, cancellationToken).ConfigureAwait(false)).Value;

    /// <inheritdoc />
    public async Task<int> CollectGenerationsAsync(string name, CancellationToken cancellationToken = default) =>
        Int32Response.Read(await LifecycleCallAsync(Opcode.CollectGenerations, new NameRequest(name), true, cancellationToken).ConfigureAwait(false)).Value;

    /// <inheritdoc />
    public async Task SetLifecyclePolicyAsync(string name, LifecyclePolicy policy, CancellationToken cancellationToken = default) =>
        EmptyResponse.Read(await LifecycleCallAsync(Opcode.SetLifecyclePolicy, new LifecyclePolicyRequest(name, policy), true, cancellationToken).ConfigureAwait(false));

    /// <inheritdoc />
    /// <remarks>Refused before anything is sent (<see cref="InvalidArgumentException"/>) when the server speaks a protocol version below 10.</remarks>
    public async Task<LifecyclePolicy> GetLifecyclePolicyAsync(string name, CancellationToken cancellationToken = default)
    {
        var (payload, _) = await CallVersionedAsync(Opcode.GetLifecyclePolicy, version => version >= ProtocolConstants.PolicyReadVersion ? new NameRequest(name)
            : throw new InvalidArgumentException($"the server speaks protocol version {version}, which cannot read a lifecycle policy back (version {ProtocolConstants.PolicyReadVersion} can); upgrade the server"),
            true, cancellationToken).ConfigureAwait(false);
        return LifecyclePolicyRequest.Read(payload).Policy;
    }

    /// <inheritdoc />
    /// <remarks>From a server below protocol version 7 the report's <see cref="DriftReport.Sensors"/> is null (not said).</remarks>
    public async Task<DriftReport> GetDriftAsync(string name, CancellationToken cancellationToken = default)
    {
        var (payload, version) = await CallVersionedAsync(Opcode.GetDrift, Lifecycle(new NameRequest(name)), true, cancellationToken).ConfigureAwait(false);
        return DriftResponse.Read(payload, version).Report;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _connectLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _disposed = true;
            if (_connection is not null) await _connection.DisposeAsync().ConfigureAwait(false);
            _connection = null;
            await DisposeIdleAsync(_draining, all: true).ConfigureAwait(false);
        }
        finally
        {
            _connectLock.Release();
        }
    }
}
