using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>Delete or Get: a collection and a batch of ids.</summary>
/// <param name="Name">Collection name.</param>
/// <param name="Ids">The ids.</param>
public sealed record IdBatchRequest(string Name, IReadOnlyList<ulong> Ids) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => WireWriter.StrSize(Name) + 4 + 8 * Ids.Count;

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.Str(Name);
        w.U32((uint)Ids.Count);
        foreach (var id in Ids) w.U64(id);
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static IdBatchRequest Read(ReadOnlySpan<byte> payload, ProtocolLimits limits)
    {
        var r = new WireReader(payload);
        var name = r.Str("name");
        int n = r.Count("id count", limits.MaxBatch);
        var ids = r.U64s(n, "ids").ToArray();
        r.End();
        return new IdBatchRequest(name, ids);
    }
}
