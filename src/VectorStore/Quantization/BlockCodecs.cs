namespace VectorStore.Quantization;

/// <summary>Finds the block layout behind a codec, looking through transforms. Thread-safe.</summary>
public static class BlockCodecs
{
    /// <summary>The codec's block layout, or null when its codes are only stored one by one.</summary>
    public static IBlockCodec? Find(VectorCodec codec) => codec switch
    {
        IBlockCodec b => b,
        TransformedCodec t => Find(t.Inner),
        _ => null,
    };
}
