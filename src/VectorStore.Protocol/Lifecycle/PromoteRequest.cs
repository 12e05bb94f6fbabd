using VectorStore.Lifecycle;

namespace VectorStore.Protocol;

/// <summary>
/// Promote (version 5): <c>str16 name</c>, <c>i32 generation</c>, <c>bool hasGate</c>, if hasGate <c>gate</c>
/// (<c>i32 minExactQueries</c>, <c>f64 maxRecallLoss</c>, <c>f64 maxP99Factor</c>; validated). The response is empty.
/// </summary>
/// <param name="Name">Collection name.</param>
/// <param name="Generation">The ready candidate to make live.</param>
/// <param name="Gate">Promote only when the live-traffic canary passes it; null = ungated.</param>
public sealed record PromoteRequest(string Name, int Generation, PromotionGate? Gate) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => WireWriter.StrSize(Name) + 4 + 1 + (Gate is null ? 0 : LifecycleCodec.GateSize);

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.Str(Name);
        w.I32(Generation);
        w.Bool(Gate is not null);
        if (Gate is not null) LifecycleCodec.WriteGate(ref w, Gate);
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/> or <see cref="InvalidArgumentException"/> (a bad gate).</summary>
    public static PromoteRequest Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var name = r.Str("name");
        int generation = LifecycleCodec.Generation(ref r);
        var gate = r.Bool("hasGate") ? LifecycleCodec.ReadGate(ref r) : null;
        r.End();
        return new PromoteRequest(name, generation, gate);
    }
}
