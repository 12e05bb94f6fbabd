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
