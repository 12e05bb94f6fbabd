using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>ListIds: ids strictly greater than <see cref="After"/> (or from the start), at most <see cref="Limit"/>.</summary>
/// <param name="Name">Collection name.</param>
/// <param name="After">Exclusive lower bound, or null to start at the smallest id.</param>
/// <param name="Limit">Most ids to return (1..MaxBatch).</param>
public sealed record ListIdsRequest(string Name, ulong? After, int Limit) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => WireWriter.StrSize(Name) + 1 + 8 + 4;

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.Str(Name);
        w.Bool(After.HasValue);
        w.U64(After ?? 0);
        w.U32((uint)Limit);
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static ListIdsRequest Read(ReadOnlySpan<byte> payload, ProtocolLimits limits)
    {
        var r = new WireReader(payload);
        var name = r.Str("name");
        bool hasAfter = r.Bool("hasAfter");
        ulong after = r.U64("after");
        int limit = r.Count("limit", limits.MaxBatch);
        r.End();
        if (limit == 0) throw new ProtocolException(ErrorCode.InvalidArgument, "limit must be positive");
        return new ListIdsRequest(name, hasAfter ? after : null, limit);
    }
}
