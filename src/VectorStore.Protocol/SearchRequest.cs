using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>
/// Search (exactly one query) or SearchBatch: options, then the queries as one row-major f32 block. Only id-set
/// filters travel; predicate filters are code and stay in-process.
/// </summary>
/// <param name="Name">Collection name.</param>
/// <param name="Options">k, rerank, ef, nprobe and an optional id filter.</param>
/// <param name="Queries">The queries.</param>
public sealed record SearchRequest(string Name, SearchOptions Options, VectorMatrix Queries) : IWireMessage
{
    /// <summary>Largest ef or nprobe accepted over the wire.</summary>
    public const int MaxBeam = 1 << 20;

    /// <inheritdoc />
    public int PayloadSize
    {
        get
        {
            long size = WireWriter.StrSize(Name) + 4 * 4 + 1 + 4 + 8L * (Options.Filter?.Ids?.Count ?? 0) + 8 + 4L * Queries.Data.Length;
            return size <= int.MaxValue ? (int)size : throw new InvalidArgumentException($"search batch of {size} bytes is too large for one frame; split it");
        }
    }

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        if (Options.Filter is { Predicate: not null })
            throw new InvalidArgumentException("predicate filters cannot be sent to a server; use an id filter");
        w.Str(Name);
        w.U32((uint)Options.K);
        w.U32((uint)Options.Rerank);
        w.U32((uint)Options.Ef);
        w.U32((uint)Options.NProbe);
        var ids = Options.Filter?.Ids;
        w.Bool(ids is not null);
        w.U32((uint)(ids?.Count ?? 0));
        if (ids is not null)
            foreach (var id in ids) w.U64(id);
        w.U32((uint)Queries.Count);
        w.U32((uint)Queries.Dimension);
        w.Floats(Queries.Data);
    }

    /// <summary>Decodes, checking k, batch size and dimension against <paramref name="limits"/> before allocating.</summary>
    public static SearchRequest Read(ReadOnlySpan<byte> payload, ProtocolLimits limits)
    {
        var r = new WireReader(payload);
        var (name, options, nq, dim) = ReadPrefix(ref r, limits);
        var data = r.Floats((long)nq * dim, "queries").ToArray();
        r.End();
        return new SearchRequest(name, options, new VectorMatrix(data, dim));
    }

    /// <summary>
    /// Decodes a request that must hold exactly one query without copying it: the returned span aliases
    /// <paramref name="payload"/> (the server's hot path for single searches).
    /// </summary>
    public static ReadOnlySpan<float> ReadSingle(ReadOnlySpan<byte> payload, ProtocolLimits limits, out string name, out SearchOptions options)
    {
        var r = new WireReader(payload);
        (name, options, int nq, int dim) = ReadPrefix(ref r, limits);
        if (nq != 1) throw new ProtocolException(ErrorCode.BadPayload, $"Search carries exactly one query, got {nq}; use SearchBatch");
        var query = r.Floats(dim, "query");
        r.End();
        return query;
    }

    private static (string Name, SearchOptions Options, int Count, int Dimension) ReadPrefix(ref WireReader r, ProtocolLimits limits)
    {
        var name = r.Str("name");
        int k = r.Count("k", limits.MaxK);
        int rerank = r.Count("rerank", limits.MaxK);
        int ef = r.Count("ef", MaxBeam);
        int nprobe = r.Count("nprobe", MaxBeam);
        bool hasFilter = r.Bool("hasFilter");
        int nFilter = r.Count("filter id count", limits.MaxBatch);
        if (!hasFilter && nFilter != 0) throw new ProtocolException(ErrorCode.BadPayload, "filter ids present without the filter flag");
        SearchFilter? filter = null;
        if (hasFilter) filter = new SearchFilter { Ids = new HashSet<ulong>(r.U64s(nFilter, "filter ids").ToArray()) };
        int nq = r.Count("query count", limits.MaxBatch);
        int dim = r.Count("dimension", limits.MaxDimension);
        if (dim == 0) throw new ProtocolException(ErrorCode.InvalidVector, "dimension must be positive");
        return (name, new SearchOptions { K = k, Rerank = rerank, Ef = ef, NProbe = nprobe, Filter = filter }, nq, dim);
    }
}
