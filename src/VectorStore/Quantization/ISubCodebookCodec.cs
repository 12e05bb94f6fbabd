namespace VectorStore.Quantization;

/// <summary>
/// A codec whose code names one entry of each of several sub-codebooks (product quantization): the drift sensors
/// read per-sub-quantizer entry usage from codes without knowing the codec's layout. Reach it through
/// <see cref="CodecFeatures.SubCodebooks"/>, which also finds it inside a transform chain (<c>opq+pq</c>, <c>pca+pq</c>).
/// </summary>
/// <remarks>Implementations are immutable codecs, so every member may be called from any thread.</remarks>
public interface ISubCodebookCodec
{
    /// <summary>Sub-codebooks (M).</summary>
    int SubQuantizers { get; }

    /// <summary>Entries per sub-codebook (256 for 8-bit, 16 for 4-bit).</summary>
    int EntriesPerSubQuantizer { get; }

    /// <summary>Writes, for each sub-codebook m, the entry <paramref name="code"/> uses into <c>entries[m]</c>.</summary>
    void GetEntries(ReadOnlySpan<byte> code, Span<byte> entries);
}
