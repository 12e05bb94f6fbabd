namespace VectorStore.Quantization;

/// <summary>A scorer that can score packed blocks of an <see cref="IBlockCodec"/>. Not thread-safe, like every scorer.</summary>
public interface IBlockScorer
{
    /// <summary>
    /// Scores the first <paramref name="count"/> codes of the consecutive blocks in <paramref name="packed"/>
    /// (⌈count / BlockVectors⌉ blocks) into <paramref name="distances"/>[0..count).
    /// </summary>
    void ScanBlocks(ReadOnlySpan<byte> packed, int count, Span<float> distances);

    /// <summary>
    /// Scores the first <paramref name="count"/> codes like <see cref="ScanBlocks"/> but returns only the candidates
    /// that can enter a bounded top-k whose current threshold is <paramref name="threshold"/>: every code whose
    /// distance is below it, plus possibly some within one quantization step above it (the caller's heap rejects
    /// those). Their positions (0-based within this call, ascending) go to <paramref name="positions"/> and their
    /// distances — the same values <see cref="ScanBlocks"/> gives — to <paramref name="distances"/>; both need room
    /// for <paramref name="count"/> entries. Returns how many. Pruning happens on the integer sums, so codes that
    /// cannot enter are never converted to float.
    /// </summary>
    int ScanBlocksBelow(ReadOnlySpan<byte> packed, int count, float threshold, Span<int> positions, Span<float> distances);
}
