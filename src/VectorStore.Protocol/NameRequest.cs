using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>A payload that is only a collection name (DropCollection, Info, BuildIndex).</summary>
/// <param name="Name">Collection name.</param>
public sealed record NameRequest(string Name) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => WireWriter.StrSize(Name);

    /// <inheritdoc />
    public void Write(ref WireWriter w) => w.Str(Name);

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static NameRequest Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var name = r.Str("name");
        r.End();
        return new NameRequest(name);
    }
}
