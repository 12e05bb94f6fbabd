using VectorStore.Collections;
using VectorStore.Filtering;

namespace VectorStore.Protocol;

/// <summary>
/// ListIds: ids strictly greater than <see cref="After"/> (or from the start), at most <see cref="Limit"/>; from protocol
/// version 6 on only those whose field values <see cref="Where"/> admits (data-format.md §5.5).
/// </summary>
/// <param name="Name">Collection name.</param>
/// <param name="After">Exclusive lower bound, or null to start at the smallest id.</param>
/// <param name="Limit">Most ids to return (1..MaxBatch).</param>
/// <param name="Where">Field filter, or null for every live id; needs version <see cref="ProtocolConstants.FilteredListVersion"/>.</param>
/// <param name="Version">Protocol version of the connection: below 6 the filter has no place on the wire.</param>
public sealed record ListIdsRequest(string Name, ulong? After, int Limit, FilterExpression? Where = null, ushort Version = ProtocolConstants.Version) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => WireWriter.StrSize(Name) + 1 + 8 + 4 + ExtensionSize();

    private int ExtensionSize()
    {
        if (Version >= ProtocolConstants.FilteredListVersion) return 4 + (Where is null ? 0 : FilterCodec.Size(Where));
        if (Where is not null)
            throw new InvalidArgumentException($"the server speaks protocol version {Version}, which cannot list ids by a field filter (version {ProtocolConstants.FilteredListVersion} can); upgrade the server");
        return 0;
    }

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.Str(Name);
        w.Bool(After.HasValue);
        w.U64(After ?? 0);
        w.U32((uint)Limit);
        if (Version < ProtocolConstants.FilteredListVersion) return;
        w.U32((uint)(Where is null ? 0 : FilterCodec.Size(Where)));
        if (Where is not null) FilterCodec.Write(ref w, Where);
    }

    /// <summary>Decodes a request of a connection speaking <paramref name="version"/>; throws <see cref="ProtocolException"/>.</summary>
    public static ListIdsRequest Read(ReadOnlySpan<byte> payload, ProtocolLimits limits, ushort version = ProtocolConstants.Version)
    {
        var r = new WireReader(payload);
        var name = r.Str("name");
        bool hasAfter = r.Bool("hasAfter");
        ulong after = r.U64("after");
        int limit = r.Count("limit", limits.MaxBatch);
        FilterExpression? where = null;
        if (version >= ProtocolConstants.FilteredListVersion)
        {
            uint whereLength = r.U32("where length");
            if (whereLength > 0) where = FilterCodec.Decode(r.Bytes(whereLength, "where"));
        }
        r.End();
        if (limit == 0) throw new ProtocolException(ErrorCode.InvalidArgument, "limit must be positive");
        return new ListIdsRequest(name, hasAfter ? after : null, limit, where, version);
    }
}
