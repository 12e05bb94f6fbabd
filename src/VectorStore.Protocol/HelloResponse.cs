using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>Hello response: the version chosen and the server's limits.</summary>
/// <param name="Version">Protocol version of the connection.</param>
/// <param name="Limits">Limits the server enforces.</param>
public sealed record HelloResponse(ushort Version, ProtocolLimits Limits) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => 2 + ProtocolLimits.WireSize;

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.U16(Version);
        Limits.Write(ref w);
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static HelloResponse Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var v = r.U16("version");
        var limits = ProtocolLimits.Read(ref r);
        r.End();
        return new HelloResponse(v, limits);
    }
}
