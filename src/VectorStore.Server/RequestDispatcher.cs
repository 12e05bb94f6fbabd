using VectorStore.Collections;
using VectorStore.Protocol;

namespace VectorStore.Server;

/// <summary>
/// Decodes one request payload, runs it against the in-process API and returns the response message. Checks
/// server limits before doing work so an oversized request costs nothing. Every request completes on the calling
/// thread (the engine is synchronous). Thread-safe (the database is).
/// </summary>
internal sealed class RequestDispatcher(VectorDatabase db, ServerOptions options) : IRequestHandler
{
    /// <inheritdoc />
    /// <remarks>An upsert with field values completes asynchronously (its durability wait holds no thread); everything else synchronously.</remarks>
    ValueTask<IWireMessage> IRequestHandler.Execute(byte opcode, ReadOnlySpan<byte> payload, ushort version)
    {
        if (opcode == (byte)Opcode.UpsertBatch)
        {
            var r = UpsertBatchRequest.Read(payload, _limits, version);
            if (r.HasFieldValues) return UpsertWithFieldsAsync(r);
            return new(Upsert(r));
        }
        if (LifecycleRequests.Handles(opcode)) return LifecycleRequests.Execute(Client, opcode, payload, version, _limits);
        return new(Execute(opcode, payload, version));
    }

    private IWireMessage Upsert(UpsertBatchRequest r)
    {
        if (r.HasFieldValues) return UpsertWithFieldsAsync(r).AsTask().GetAwaiter().GetResult();
        db.GetCollection(r.Name).UpsertBatch(r.Ids, r.Vectors, r.Payloads);
        return EmptyResponse.Instance;
    }

    /// <summary>
    /// Upserts a batch with field values through the interface overload that carries them (the engine's
    /// <c>InProcessDatabaseClient</c>); it refuses field values until the engine stores them.
    /// </summary>
    private async ValueTask<IWireMessage> UpsertWithFieldsAsync(UpsertBatchRequest r)
    {
        await Client.UpsertBatchAsync(r.Name, r.Ids, r.Vectors, r.Payloads, r.Fields).ConfigureAwait(false);
        return EmptyResponse.Instance;
    }

    private readonly ProtocolLimits _limits = options.Limits;

    /// <summary>
    /// The engine's client over the database: calls that exist only on the client interfaces (field-carrying upserts,
    /// the compression lifecycle) go through it. It does not own the database.
    /// </summary>
    private IVectorDatabaseClient Client { get; } = new InProcessDatabaseClient(db);

    /// <summary>
    /// The Snapshot opcode: a client's compaction (<c>VectorStoreClient.CompactAsync</c>, <c>compact --server</c>) is
    /// sent as one, the protocol having no per-collection compaction. A checkpoint alone (the shutdown hook) left the
    /// space of deleted and overwritten vectors on disk, which a local compaction reclaims; so every collection is
    /// compacted, as a gateway's server does (<see cref="ClientRequestDispatcher"/>), which also snapshots it and
    /// truncates its log.
    /// </summary>
    private void CompactAll()
    {
        foreach (var name in db.CollectionNames)
        {
            try
            {
                // A stopped collection cannot be snapshotted (its log holds all it has), as VectorDatabase.Snapshot skips it.
                if (!db.GetCollection(name).Faulted) db.Compact(name);
            }
            catch (InvalidArgumentException)
            {
                // Dropped since it was listed: nothing left to compact.
            }
        }
    }

    /// <summary>Runs one request; <paramref name="version"/> is the connection's protocol version (it picks response layouts).</summary>
    public IWireMessage Execute(byte opcode, ReadOnlySpan<byte> payload, ushort version)
    {
        switch ((Opcode)opcode)
        {
            case Opcode.Ping:
                new WireReader(payload).End();
                return EmptyResponse.Instance;
            case Opcode.CreateCollection:
            {
                var r = CreateCollectionRequest.Read(payload, version);
                if (r.Options.Dimension > _limits.MaxDimension)
                    throw new ProtocolException(ErrorCode.LimitExceeded, $"dimension {r.Options.Dimension} exceeds the limit {_limits.MaxDimension}");
                db.CreateCollection(r.Name, r.Options);
                return EmptyResponse.Instance;
            }
            case Opcode.DropCollection:
                return new BoolsResponse([db.DropCollection(NameRequest.Read(payload).Name)]);
            case Opcode.ListCollections:
                new WireReader(payload).End();
                return new NamesResponse(db.CollectionNames);
            case Opcode.Info:
            {
                var c = db.GetCollection(NameRequest.Read(payload).Name);
                return new InfoResponse(c.Options, c.GetStats(), version >= 2 ? db.DiskBytes(c.Name) : null, version);
            }
            case Opcode.UpsertBatch:
                return Upsert(UpsertBatchRequest.Read(payload, _limits, version));
            case Opcode.Delete:
            {
                var r = IdBatchRequest.Read(payload, _limits);
                var c = db.GetCollection(r.Name);
                var removed = new bool[r.Ids.Count];
                for (int i = 0; i < removed.Length; i++) removed[i] = c.Delete(r.Ids[i]);
                return new BoolsResponse(removed);
            }
            case Opcode.Get:
            {
                var r = IdBatchRequest.Read(payload, _limits);
                var c = db.GetCollection(r.Name);
                RequireResponseSize((long)r.Ids.Count * (4L * c.Options.Dimension + 5), "get");
                var records = new VectorRecord?[r.Ids.Count];
                for (int i = 0; i < records.Length; i++) records[i] = c.Get(r.Ids[i]);
                // Payloads and field values are known only now.
                RequireResponseSize(GetResponse.SizeOf(c.Options.Dimension, records, version), "get");
                return new GetResponse(c.Options.Dimension, records, version);
            }
            case Opcode.ListIds:
            {
                var r = ListIdsRequest.Read(payload, _limits, version);
                var page = db.GetCollection(r.Name).IdPage(r.After, r.Limit, r.Where);
                return new IdsResponse(page.Ids, page.More);
            }
            case Opcode.Search:
            {
                var query = SearchRequest.ReadSingle(payload, _limits, out var name, out var searchOptions, version);
                return Respond([db.GetCollection(name).Search(query, searchOptions)], searchOptions, version);
            }
            case Opcode.SearchBatch:
            {
                var r = SearchRequest.Read(payload, _limits, version);
                var c = db.GetCollection(r.Name);
                RequireResponseSize(4 + r.Queries.Count * ((version >= ProtocolConstants.LifecycleVersion ? 8 : 4) + 12L * Math.Min(r.Options.K, Math.Max(1, c.Count))), "search batch");
                return Respond(c.SearchBatch(r.Queries, r.Options, options.BatchSearchThreads), r.Options, version);
            }
            case Opcode.BuildIndex:
                db.GetCollection(NameRequest.Read(payload).Name).BuildIndex();
                return EmptyResponse.Instance;
            case Opcode.Flush:
                new WireReader(payload).End();
                (options.Flush ?? throw new ProtocolException(ErrorCode.NotSupported, "this server has no flush (in-memory database or storage not available)"))(db);
                return EmptyResponse.Instance;
            case Opcode.Snapshot:
                new WireReader(payload).End();
                if (options.Snapshot is null) throw new ProtocolException(ErrorCode.NotSupported, "this server has no snapshot (in-memory database or storage not available)");
                CompactAll();
                return EmptyResponse.Instance;
            case Opcode.Backup:
                RequireBackupVersion(version);
                var backup = BackupRequest.Read(payload, version);
                return new BackupResponse(Backup(BackupTarget(backup.Name), backup.Since is { } since ? BackupTarget(since) : null), version);
            default:
                // Lifecycle calls complete asynchronously (a build may wait for the background work); this synchronous
                // path (the fuzz harness) waits for them.
                if (LifecycleRequests.Handles(opcode)) return LifecycleRequests.Execute(Client, opcode, payload, version, _limits).AsTask().GetAwaiter().GetResult();
                throw new ProtocolException(ErrorCode.UnknownOpcode, $"unknown opcode 0x{opcode:X2}");
        }
    }

    /// <summary>
    /// Where a Backup request's <paramref name="name"/> (the new backup, or the previous one it links from) lies: right
    /// under the server's backup directory (<see cref="ServerOptions.BackupDirectory"/>), never elsewhere.
    /// </summary>
    private string BackupTarget(string name)
    {
        string root = options.BackupDirectory
            ?? throw new ProtocolException(ErrorCode.NotSupported, "this server takes no backups: start it with --backup-dir DIR (ServerOptions.BackupDirectory), or back up in process with VectorDatabase.Backup");
        if (db.Directory is null) throw new ProtocolException(ErrorCode.NotSupported, "this server's database is in memory: it has no files to back up");
        string target = Path.Combine(root, name);
        // Also what Path.Combine would take as rooted elsewhere ("C:x" on Windows): the result must sit right under root.
        if (name.Length == 0 || name is "." or ".." || name.IndexOfAny(['/', '\\', '\0', ':']) >= 0 || name.StartsWith('.') || Path.IsPathRooted(name)
            || Path.GetDirectoryName(Path.GetFullPath(target)) != Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)))
            throw new InvalidArgumentException($"backup name '{name}' is not a plain directory name (no separators or ':', not starting with '.'): a backup goes right under the server's backup directory");
        return target;
    }

    /// <summary>
    /// Runs a backup (incremental from <paramref name="since"/>, a previous one under the backup directory), with a log
    /// line when it starts and how it ended: operators read a server's log, not its clients'.
    /// </summary>
    private BackupResult Backup(string target, string? since)
    {
        options.Log?.Invoke($"backup to {target}{(since is null ? "" : $" since {since}")} started");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var result = db.Backup(target, new BackupOptions { Since = since });
            options.Log?.Invoke($"backup to {target} completed in {clock.Elapsed.TotalSeconds:F1} s: {result.Collections.Count} collections, {result.Bytes} bytes" +
                (since is null ? "" : $" ({result.LinkedBytes} linked from {since})") +
                (result.SkippedDamaged.Count > 0 ? $", left out as damaged: {string.Join(", ", result.SkippedDamaged)}" : ""));
            return result;
        }
        catch (Exception e)
        {
            options.Log?.Invoke($"backup to {target} failed after {clock.Elapsed.TotalSeconds:F1} s: {e.Message}");
            throw;
        }
    }

    /// <summary>A connection below version 8 gets UnknownOpcode for Backup, as a version-7 server answers it.</summary>
    internal static void RequireBackupVersion(ushort version)
    {
        if (version < ProtocolConstants.BackupVersion)
            throw new ProtocolException(ErrorCode.UnknownOpcode, $"opcode 0x{(byte)Opcode.Backup:X2} needs protocol version {ProtocolConstants.BackupVersion}; this connection speaks {version}");
    }

    /// <summary>The search response; when hits carry fields, payloads or vectors its size is known only now and checked.</summary>
    private SearchResponse Respond(SearchHit[][] results, SearchOptions searchOptions, ushort version)
    {
        if (searchOptions.IncludeFields || searchOptions.IncludePayload || searchOptions.IncludeVector)
            RequireResponseSize(SearchResponse.SizeOf(results, version), "search");
        return new SearchResponse(results, version);
    }

    private void RequireResponseSize(long bytes, string what) => ErrorMapping.RequireResponseSize(bytes, _limits, what);

    /// <summary>The error frame for an exception thrown while executing a request.</summary>
    public ErrorResponse ErrorFor(Exception e) => ErrorMapping.For(e, options.Log);
}
