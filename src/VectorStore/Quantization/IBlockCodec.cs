namespace VectorStore.Quantization;

/// <summary>
/// A codec whose codes an index may store interleaved in blocks of <see cref="BlockVectors"/> codes so that a
/// block kernel scores a whole block at once (4-bit PQ fast-scan). Per-vector <see cref="VectorCodec.Encode"/> codes
/// remain the exchange format: an index encodes one vector, then writes it into its block position.
/// Implementations are immutable and thread-safe.
/// </summary>
public interface IBlockCodec
{
    /// <summary>Codes per block.</summary>
    int BlockVectors { get; }

    /// <summary>Bytes per block.</summary>
    int BlockBytes { get; }

    /// <summary>
    /// Packs <paramref name="count"/> (≤ <see cref="BlockVectors"/>) per-vector codes, laid out contiguously in
    /// <paramref name="codes"/>, into <paramref name="block"/>; positions past <paramref name="count"/> get index 0.
    /// </summary>
    void PackBlock(ReadOnlySpan<byte> codes, int count, Span<byte> block);

    /// <summary>Writes one per-vector code into position <paramref name="position"/> of <paramref name="block"/>.</summary>
    void SetBlockCode(Span<byte> block, int position, ReadOnlySpan<byte> code);

    /// <summary>Reads the per-vector code at position <paramref name="position"/> of <paramref name="block"/>.</summary>
    void GetBlockCode(ReadOnlySpan<byte> block, int position, Span<byte> code);
}
