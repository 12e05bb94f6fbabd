using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>
/// Search (exactly one query) or SearchBatch: options, then the queries as one row-major f32 block. Id-set filters
/// travel, and from version 4 on field filters (<see cref="SearchFilter.Where"/>, <see cref="FilterCodec"/>) and the
/// <c>Include*</c> flags, and from version 5 on the exposure key and segment tag; predicate filters are code and stay
/// in-process.
/// </summary>
/// <param name="Name">Collection name.</param>
/// <param name="Options">k, rerank, ef, nprobe, an optional id and field filter, what hits carry.</param>
/// <param name="Queries">The queries.</param>
/// <param name="Version">
/// Protocol version of the connection: a field filter or an <c>Include*</c> flag needs 4, and an older connection
/// refuses them with <see cref="InvalidArgumentException"/> rather than drop them; likewise an exposure key or a
/// segment tag needs 5.
/// </param>
public sealed record SearchRequest(string Name, SearchOptions Options, VectorMatrix Queries, ushort Version = ProtocolConstants.Version) : IWireMessage
{
    /// <summary>Bits of the <c>u8 include</c> field (version 4): what each hit carries besides id and score.</summary>
    internal const byte IncludeFieldsBit = 1, IncludePayloadBit = 2, IncludeVectorBit = 4;

    /// <summary>Largest ef or nprobe accepted over the wire.</summary>
    public const int MaxBeam = 1 << 20;

    /// <inheritdoc />
    public int PayloadSize
    {
        get
        {
            long size = WireWriter.StrSize(Name) + 4 * 4 + 1 + 4 + 8L * (Options.Filter?.Ids?.Count ?? 0) + 8 + 4L * Queries.Data.Length
                + ExtensionSize();
            return size <= int.MaxValue ? (int)size : throw new InvalidArgumentException($"search batch of {size} bytes is too large for one frame; split it");
        }
    }

    private byte IncludeBits =>
        (byte)((Options.IncludeFields ? IncludeFieldsBit : 0) | (Options.IncludePayload ? IncludePayloadBit : 0) | (Options.IncludeVector ? IncludeVectorBit : 0));

    /// <summary>Bytes of the version-4 fields (where filter and include flags); refuses them on an older connection.</summary>
    private int ExtensionSize()
    {
        var where = Options.Filter?.Where;
        if (Version < 4)
        {
            if (where is not null)
                throw new InvalidArgumentException($"the server speaks protocol version {Version}, which cannot carry a field filter (version 4 can); upgrade the server");
            if (IncludeBits != 0)
                throw new InvalidArgumentException($"the server speaks protocol version {Version}, which cannot return fields, payloads or vectors with hits (version 4 can); upgrade the server");
            return 0;
        }
        int size = 4 + (where is null ? 0 : FilterCodec.Size(where)) + 1;
        if (Version < ProtocolConstants.LifecycleVersion)
        {
            if (Options.ExposureKey is not null || Options.Segment is not null)
                throw new InvalidArgumentException($"the server speaks protocol version {Version}, which cannot carry an exposure key or a segment tag (version {ProtocolConstants.LifecycleVersion} can); upgrade the server");
            return size;
        }
        return size + KeySize(Options.ExposureKey, "exposure key") + KeySize(Options.Segment, "segment tag");
    }

    /// <summary>Longest exposure key or segment tag in UTF-8 bytes (version 5).</summary>
    public const int MaxKeyBytes = 1024;

    private static int KeySize(string? key, string what)
    {
        if (key is null) return 2;
        if (key.Length == 0) throw new InvalidArgumentException($"the {what} must not be empty (null means none)");
        int size = WireWriter.StrSize(key);
        return size - 2 <= MaxKeyBytes ? size : throw new InvalidArgumentException($"the {what} is {size - 2} UTF-8 bytes, the limit is {MaxKeyBytes}");
    }

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        if (Options.Filter is { Predicate: not null })
            throw new InvalidArgumentException("predicate filters cannot be sent to a server; use an id filter or a Where expression");
        ExtensionSize();
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
        if (Version >= 4)
        {
            var where = Options.Filter?.Where;
            w.U32((uint)(where is null ? 0 : FilterCodec.Size(where)));
            if (where is not null) FilterCodec.Write(ref w, where);
            w.U8(IncludeBits);
            if (Version >= ProtocolConstants.LifecycleVersion)
            {
                w.Str(Options.ExposureKey ?? "");
                w.Str(Options.Segment ?? "");
            }
        }
        w.U32((uint)Queries.Count);
        w.U32((uint)Queries.Dimension);
        w.Floats(Queries.Data);
    }

    /// <summary>Decodes, checking k, batch size and dimension against <paramref name="limits"/> before allocating.</summary>
    public static SearchRequest Read(ReadOnlySpan<byte> payload, ProtocolLimits limits, ushort version = ProtocolConstants.Version)
    {
        var r = new WireReader(payload);
        var (name, options, nq, dim) = ReadPrefix(ref r, limits, version);
        var data = r.Floats((long)nq * dim, "queries").ToArray();
        r.End();
        return new SearchRequest(name, options, new VectorMatrix(data, dim), version);
    }

    /// <summary>
    /// Decodes a request that must hold exactly one query without copying it: the returned span aliases
    /// <paramref name="payload"/> (the server's hot path for single searches).
    /// </summary>
    public static ReadOnlySpan<float> ReadSingle(ReadOnlySpan<byte> payload, ProtocolLimits limits, out string name, out SearchOptions options,
        ushort version = ProtocolConstants.Version)
    {
        var r = new WireReader(payload);
        (name, options, int nq, int dim) = ReadPrefix(ref r, limits, version);
        if (nq != 1) throw new ProtocolException(ErrorCode.BadPayload, $"Search carries exactly one query, got {nq}; use SearchBatch");
        var query = r.Floats(dim, "query");
        r.End();
        return query;
    }

    private static (string Name, SearchOptions Options, int Count, int Dimension) ReadPrefix(ref WireReader r, ProtocolLimits limits, ushort version)
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
        byte include = 0;
        if (version >= 4)
        {
            uint whereLength = r.U32("where length");
            if (whereLength > 0)
            {
                var where = FilterCodec.Decode(r.Bytes(whereLength, "where"));
                filter = filter is null ? new SearchFilter { Where = where } : new SearchFilter { Ids = filter.Ids, Where = where };
            }
            include = r.U8("include");
            if ((include & ~(IncludeFieldsBit | IncludePayloadBit | IncludeVectorBit)) != 0)
                throw new ProtocolException(ErrorCode.BadPayload, $"unknown include bits 0x{include:X2}");
        }
        string? exposureKey = null, segment = null;
        if (version >= ProtocolConstants.LifecycleVersion)
        {
            // Empty = none: a key that hashes to a bucket must have content.
            exposureKey = NullIfEmpty(r.Str("exposure key", MaxKeyBytes));
            segment = NullIfEmpty(r.Str("segment tag", MaxKeyBytes));
        }
        int nq = r.Count("query count", limits.MaxBatch);
        int dim = r.Count("dimension", limits.MaxDimension);
        if (dim == 0) throw new ProtocolException(ErrorCode.InvalidVector, "dimension must be positive");
        return (name, new SearchOptions
        {
            K = k, Rerank = rerank, Ef = ef, NProbe = nprobe, Filter = filter,
            IncludeFields = (include & IncludeFieldsBit) != 0,
            IncludePayload = (include & IncludePayloadBit) != 0,
            IncludeVector = (include & IncludeVectorBit) != 0,
            ExposureKey = exposureKey,
            Segment = segment,
        }, nq, dim);
    }

    private static string? NullIfEmpty(string s) => s.Length == 0 ? null : s;
}
