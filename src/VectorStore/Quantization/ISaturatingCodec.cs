namespace VectorStore.Quantization;

/// <summary>
/// A codec that quantizes each coordinate within a trained range (<c>sq8</c>), so a coordinate outside that range
/// saturates at the end code: the drift sensors read its clip rate from codes without knowing the codec's layout.
/// Reach it through <see cref="CodecFeatures.Saturation"/>, which also finds it inside a transform chain.
/// </summary>
/// <remarks>Implementations are immutable codecs, so both members may be called from any thread.</remarks>
public interface ISaturatingCodec
{
    /// <summary>Quantized coordinates per code (the codec's input dimension).</summary>
    int QuantizedDimensions { get; }

    /// <summary>
    /// How many coordinates of <paramref name="code"/> sit at either end code: the value was outside the trained
    /// range, or within half a step of its edge.
    /// </summary>
    int CountSaturated(ReadOnlySpan<byte> code);
}
