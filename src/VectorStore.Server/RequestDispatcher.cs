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
    ValueTask<IWireMessage> IRequestHandler.Execute(byte opcode, ReadOnlySpan<byte> payload, ushort version) => new(Execute(opcode, payload, version));

    private readonly ProtocolLimits _limits = options.Limits;

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
            {
                var r = UpsertBatchRequest.Read(payload, _limits);
                db.GetCollection(r.Name).UpsertBatch(r.Ids, r.Vectors, r.Payloads);
                return EmptyResponse.Instance;
            }
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
                return new GetResponse(c.Options.Dimension, records);
            }
            case Opcode.ListIds:
                return ListIds(ListIdsRequest.Read(payload, _limits));
            case Opcode.Search:
            {
                var query = SearchRequest.ReadSingle(payload, _limits, out var name, out var searchOptions);
                return new SearchResponse([db.GetCollection(name).Search(query, searchOptions)]);
            }
            case Opcode.SearchBatch:
            {
                var r = SearchRequest.Read(payload, _limits);
                var c = db.GetCollection(r.Name);
                RequireResponseSize(4 + r.Queries.Count * (4 + 12L * Math.Min(r.Options.K, Math.Max(1, c.Count))), "search batch");
                return new SearchResponse(c.SearchBatch(r.Queries, r.Options, options.BatchSearchThreads));
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
                (options.Snapshot ?? throw new ProtocolException(ErrorCode.NotSupported, "this server has no snapshot (in-memory database or storage not available)"))(db);
                return EmptyResponse.Instance;
            default:
                throw new ProtocolException(ErrorCode.UnknownOpcode, $"unknown opcode 0x{opcode:X2}");
        }
    }

    private IdsResponse ListIds(ListIdsRequest r)
    {
        var ids = db.GetCollection(r.Name).Ids();
        int start = 0;
        if (r.After is ulong after)
        {
            int i = Array.BinarySearch(ids, after);
            start = i >= 0 ? i + 1 : ~i;
        }
        int n = Math.Min(r.Limit, ids.Length - start);
        return new IdsResponse(ids.AsSpan(start, n).ToArray(), start + n < ids.Length);
    }

    private void RequireResponseSize(long bytes, string what) => ErrorMapping.RequireResponseSize(bytes, _limits, what);

    /// <summary>The error frame for an exception thrown while executing a request.</summary>
    public ErrorResponse ErrorFor(Exception e) => ErrorMapping.For(e, options.Log);
}
