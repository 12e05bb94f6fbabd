using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>A list of booleans (DropCollection: one; Delete: one per id).</summary>
/// <param name="Values">The values.</param>
public sealed record BoolsResponse(bool[] Values) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => 4 + Values.Length;

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.U32((uint)Values.Length);
        foreach (var v in Values) w.Bool(v);
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static BoolsResponse Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        int n = r.Count("count", int.MaxValue);
        var values = new bool[Math.Min(n, r.Remaining)];
        if (values.Length != n) throw new ProtocolException(ErrorCode.BadPayload, $"payload truncated: {n} booleans announced, {r.Remaining} bytes left");
        for (int i = 0; i < n; i++) values[i] = r.Bool("value");
        r.End();
        return new BoolsResponse(values);
    }
}
