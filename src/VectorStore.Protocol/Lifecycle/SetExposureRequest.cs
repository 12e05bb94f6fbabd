namespace VectorStore.Protocol;

/// <summary>
/// SetExposure (version 5): <c>str16 name</c>, <c>i32 generation</c>, <c>f64 percent</c> (0..100; 0 ends the exposure).
/// The response is empty.
/// </summary>
/// <param name="Name">Collection name.</param>
/// <param name="Generation">The candidate that serves the exposed share of keyed searches.</param>
/// <param name="Percent">Share of keyed searches it serves, in percent.</param>
public sealed record SetExposureRequest(string Name, int Generation, double Percent) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => WireWriter.StrSize(Name) + 4 + 8;

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.Str(Name);
        w.I32(Generation);
        w.F64(Percent);
    }

    /// <summary>Decodes; a generation below 1 or a percent outside 0..100 (NaN included) is <see cref="ErrorCode.InvalidArgument"/>.</summary>
    public static SetExposureRequest Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var name = r.Str("name");
        int generation = LifecycleCodec.Generation(ref r);
        double percent = r.F64("percent");
        r.End();
        if (!(percent is >= 0 and <= 100)) throw new ProtocolException(ErrorCode.InvalidArgument, $"exposure percent must be in 0..100, got {percent}");
        return new SetExposureRequest(name, generation, percent);
    }
}
