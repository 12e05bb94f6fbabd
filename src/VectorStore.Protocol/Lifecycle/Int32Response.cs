namespace VectorStore.Protocol;

/// <summary>
/// A response that is one non-negative <c>i32</c> (version 5): the generation BuildGeneration declared, the generation
/// Rollback made live, the number of generations CollectGenerations dropped.
/// </summary>
/// <param name="Value">The number.</param>
public sealed record Int32Response(int Value) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => 4;

    /// <inheritdoc />
    public void Write(ref WireWriter w) => w.I32(Value);

    /// <summary>Decodes; a negative value is <see cref="ErrorCode.BadPayload"/>.</summary>
    public static Int32Response Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        int v = r.I32("value");
        r.End();
        return v >= 0 ? new Int32Response(v) : throw new ProtocolException(ErrorCode.BadPayload, $"value is negative ({v})");
    }
}
