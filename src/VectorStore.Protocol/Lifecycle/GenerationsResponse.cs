using VectorStore.Lifecycle;

namespace VectorStore.Protocol;

/// <summary>ListGenerations response (version 5): every generation of a collection, oldest first, each with its canary figures when it has them.</summary>
/// <param name="Generations">The generations.</param>
public sealed record GenerationsResponse(IReadOnlyList<GenerationInfo> Generations) : IWireMessage
{
    /// <summary>Exact payload size, in 64 bits so a server can refuse an oversized one.</summary>
    public long Size
    {
        get
        {
            long size = 4;
            foreach (var g in Generations) size += LifecycleCodec.GenerationSize(g);
            return size;
        }
    }

    /// <inheritdoc />
    public int PayloadSize => checked((int)Size);

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        if (Generations.Count > LifecycleCodec.MaxGenerations)
            throw new InvalidArgumentException($"{Generations.Count} generations exceed the protocol's {LifecycleCodec.MaxGenerations}");
        w.U32((uint)Generations.Count);
        foreach (var g in Generations) LifecycleCodec.WriteGeneration(ref w, g);
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static GenerationsResponse Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        int n = LifecycleCodec.Count(ref r, "generation count", LifecycleCodec.MaxGenerations, 41);
        var generations = new GenerationInfo[n];
        for (int i = 0; i < n; i++) generations[i] = LifecycleCodec.ReadGeneration(ref r);
        r.End();
        return new GenerationsResponse(generations);
    }
}
