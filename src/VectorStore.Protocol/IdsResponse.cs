using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>ListIds response: ascending ids and whether more follow.</summary>
/// <param name="Ids">The page of ids.</param>
/// <param name="More">True when ids beyond the last one exist.</param>
public sealed record IdsResponse(ulong[] Ids, bool More) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => 4 + 8 * Ids.Length + 1;

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.U32((uint)Ids.Length);
        w.U64s(Ids);
        w.Bool(More);
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static IdsResponse Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        int n = r.Count("id count", int.MaxValue);
        var ids = r.U64s(n, "ids").ToArray();
        bool more = r.Bool("more");
        r.End();
        return new IdsResponse(ids, more);
    }
}
