namespace VectorStore.Quantization;

/// <summary>
/// Finds a codec's optional features through transform stages: a chain's codes are its innermost codec's codes, so
/// what that codec can say about a code holds for the chain. Thread-safe.
/// </summary>
public static class CodecFeatures
{
    /// <summary>The range-quantizing codec behind <paramref name="codec"/>'s codes, or null when it has none.</summary>
    public static ISaturatingCodec? Saturation(VectorCodec codec) => Innermost(codec) as ISaturatingCodec;

    /// <summary>The sub-codebook codec behind <paramref name="codec"/>'s codes, or null when it has none.</summary>
    public static ISubCodebookCodec? SubCodebooks(VectorCodec codec) => Innermost(codec) as ISubCodebookCodec;

    private static VectorCodec Innermost(VectorCodec codec)
    {
        while (codec is TransformedCodec t) codec = t.Inner;
        return codec;
    }
}
