using VectorStore.Collections;

namespace VectorStore.Protocol;

/// <summary>ListCollections response.</summary>
/// <param name="Names">Collection names, sorted.</param>
public sealed record NamesResponse(IReadOnlyList<string> Names) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => 4 + Names.Sum(WireWriter.StrSize);

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.U32((uint)Names.Count);
        foreach (var n in Names) w.Str(n);
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static NamesResponse Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        // Each name needs at least its 2-byte length, which bounds the list before allocating.
        int n = r.Count("name count", r.Remaining / 2);
        var names = new string[n];
        for (int i = 0; i < n; i++) names[i] = r.Str("name");
        r.End();
        return new NamesResponse(names);
    }
}
