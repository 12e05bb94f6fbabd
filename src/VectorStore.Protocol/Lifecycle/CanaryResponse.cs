using VectorStore.Lifecycle;

namespace VectorStore.Protocol;

/// <summary>RunCanary response (version 5): the comparison of a candidate generation with the live one.</summary>
/// <param name="Report">The report; at most <c>65,536</c> segments travel (the worst first, the order the report keeps).</param>
public sealed record CanaryResponse(CanaryReport Report) : IWireMessage
{
    /// <summary>Exact payload size, in 64 bits so a server can refuse an oversized one.</summary>
    public long Size => LifecycleCodec.CanarySize(Report);

    /// <inheritdoc />
    public int PayloadSize => checked((int)Size);

    /// <inheritdoc />
    public void Write(ref WireWriter w) => LifecycleCodec.WriteCanary(ref w, Report);

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static CanaryResponse Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var report = LifecycleCodec.ReadCanary(ref r);
        r.End();
        return new CanaryResponse(report);
    }
}
