namespace VectorStore.Protocol;

/// <summary>BuildGeneration (version 5): declare a candidate generation and build it; the response is its number (<see cref="Int32Response"/>).</summary>
/// <param name="Name">Collection name.</param>
/// <param name="Compression">The candidate's compression spec.</param>
/// <param name="Index">The candidate's index spec.</param>
/// <param name="Wait">Answer only once it is ready (or failed); otherwise as soon as it is declared.</param>
public sealed record BuildGenerationRequest(string Name, string Compression, string Index, bool Wait) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => WireWriter.StrSize(Name) + WireWriter.StrSize(Compression) + WireWriter.StrSize(Index) + 1;

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.Str(Name);
        w.Str(Compression);
        w.Str(Index);
        w.Bool(Wait);
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static BuildGenerationRequest Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        var request = new BuildGenerationRequest(r.Str("name"), r.Str("compression"), r.Str("index"), r.Bool("wait"));
        r.End();
        return request;
    }
}
