using VectorStore.Collections;
using VectorStore.Protocol;

namespace VectorStore.Server;

/// <summary>
/// Runs requests against any <see cref="IVectorDatabaseClient"/> — a distributed database behind a cluster gateway,
/// say — so the TCP protocol is served unchanged in front of it. Payloads are decoded (copied) before the first
/// await; responses whose size depends on data the request does not name (get, search batch) are checked against
/// the response limit once known. Thread-safe when the client is (every implementation is).
/// </summary>
internal sealed class ClientRequestDispatcher(IVectorDatabaseClient db, ServerOptions options) : IRequestHandler
{
    private readonly ProtocolLimits _limits = options.Limits;

    /// <inheritdoc />
    public ValueTask<IWireMessage> Execute(byte opcode, ReadOnlySpan<byte> payload, ushort version)
    {
        switch ((Opcode)opcode)
        {
            case Opcode.Ping:
                new WireReader(payload).End();
                return new(EmptyResponse.Instance);
            case Opcode.CreateCollection:
            {
                var r = CreateCollectionRequest.Read(payload, version);
                if (r.Options.Dimension > _limits.MaxDimension)
                    throw new ProtocolException(ErrorCode.LimitExceeded, $"dimension {r.Options.Dimension} exceeds the limit {_limits.MaxDimension}");
                return Empty(db.CreateCollectionAsync(r.Name, r.Options));
            }
            case Opcode.DropCollection:
                return DropAsync(NameRequest.Read(payload).Name);
            case Opcode.ListCollections:
                new WireReader(payload).End();
                return NamesAsync();
            case Opcode.Info:
                return InfoAsync(NameRequest.Read(payload).Name, version);
            case Opcode.UpsertBatch:
            {
                var r = UpsertBatchRequest.Read(payload, _limits, version);
                return Empty(r.HasFieldValues
                    ? db.UpsertBatchAsync(r.Name, r.Ids, r.Vectors, r.Payloads, r.Fields)
                    : db.UpsertBatchAsync(r.Name, r.Ids, r.Vectors, r.Payloads));
            }
            case Opcode.Delete:
            {
                var r = IdBatchRequest.Read(payload, _limits);
                return DeleteAsync(r.Name, r.Ids);
            }
            case Opcode.Get:
            {
                var r = IdBatchRequest.Read(payload, _limits);
                return GetAsync(r.Name, r.Ids, version);
            }
            case Opcode.ListIds:
                return ListIdsAsync(ListIdsRequest.Read(payload, _limits, version));
            case Opcode.Search:
            {
                var query = SearchRequest.ReadSingle(payload, _limits, out var name, out var searchOptions, version);
                return SearchAsync(name, new VectorMatrix(query.ToArray(), query.Length), searchOptions, version);
            }
            case Opcode.SearchBatch:
            {
                var r = SearchRequest.Read(payload, _limits, version);
                return SearchAsync(r.Name, r.Queries, r.Options, version);
            }
            case Opcode.BuildIndex:
            {
                var name = NameRequest.Read(payload).Name;
                return db is IIndexBuildingClient builder
                    ? Empty(builder.BuildIndexAsync(name))
                    : throw new ProtocolException(ErrorCode.NotSupported, "this server's database cannot build an index on request");
            }
            case Opcode.Flush:
                new WireReader(payload).End();
                return Empty(db.FlushAsync());
            case Opcode.Snapshot:
                new WireReader(payload).End();
                return SnapshotAsync();
            case Opcode.Backup:
                RequestDispatcher.RequireBackupVersion(version);
                BackupRequest.Read(payload, version);
                throw new ProtocolException(ErrorCode.NotSupported, "this server runs requests through a database client (a cluster gateway, say), which takes no backup: back up each database (each silo's) where it runs");
            default:
                if (LifecycleRequests.Handles(opcode)) return LifecycleRequests.Execute(db, opcode, payload, version, _limits);
                throw new ProtocolException(ErrorCode.UnknownOpcode, $"unknown opcode 0x{opcode:X2}");
        }
    }

    /// <inheritdoc />
    public ErrorResponse ErrorFor(Exception e) => ErrorMapping.For(e, options.Log);

    private static async ValueTask<IWireMessage> Empty(Task work)
    {
        await work.ConfigureAwait(false);
        return EmptyResponse.Instance;
    }

    private async ValueTask<IWireMessage> DropAsync(string name) => new BoolsResponse([await db.DropCollectionAsync(name).ConfigureAwait(false)]);

    private async ValueTask<IWireMessage> NamesAsync() => new NamesResponse(await db.CollectionNamesAsync().ConfigureAwait(false));

    private async ValueTask<IWireMessage> InfoAsync(string name, ushort version)
    {
        var info = await db.GetInfoAsync(name).ConfigureAwait(false);
        return new InfoResponse(info.Options, info.Stats, version >= 2 ? info.BytesOnDisk ?? 0 : null, version);
    }

    private async ValueTask<IWireMessage> DeleteAsync(string name, IReadOnlyList<ulong> ids) =>
        new BoolsResponse(await db.DeleteBatchAsync(name, ids).ConfigureAwait(false));

    private async ValueTask<IWireMessage> GetAsync(string name, IReadOnlyList<ulong> ids, ushort version)
    {
        var records = await db.GetBatchAsync(name, ids).ConfigureAwait(false);
        // The dimension comes with any found record; only when none was found is it asked for separately.
        int dimension = records.FirstOrDefault(r => r is not null)?.Vector.Length
            ?? (await db.GetInfoAsync(name).ConfigureAwait(false)).Options.Dimension;
        ErrorMapping.RequireResponseSize(GetResponse.SizeOf(dimension, records, version), _limits, "get");
        return new GetResponse(dimension, records, version);
    }

    private async ValueTask<IWireMessage> ListIdsAsync(ListIdsRequest r)
    {
        var page = await db.ListMatchingIdsAsync(r.Name, r.Where, r.After, r.Limit).ConfigureAwait(false);
        return new IdsResponse(page.Ids, page.More);
    }

    private async ValueTask<IWireMessage> SearchAsync(string name, VectorMatrix queries, SearchOptions searchOptions, ushort version)
    {
        var results = await db.SearchBatchAsync(name, queries, searchOptions).ConfigureAwait(false);
        ErrorMapping.RequireResponseSize(SearchResponse.SizeOf(results, version), _limits, "search");
        return new SearchResponse(results, version);
    }

    /// <summary>The protocol's snapshot covers every collection; a client's compaction is per collection.</summary>
    private async ValueTask<IWireMessage> SnapshotAsync()
    {
        foreach (var name in await db.CollectionNamesAsync().ConfigureAwait(false))
        {
            try
            {
                await db.CompactAsync(name).ConfigureAwait(false);
            }
            catch (InvalidArgumentException)
            {
                // Dropped since it was listed: nothing left to snapshot.
            }
        }
        return EmptyResponse.Instance;
    }
}
