namespace VectorStore.Quantization;

/// <summary>
/// Scores packed blocks of an <see cref="IBlockCodec"/> for several queries in one pass over the codes: a batched
/// search sets each query once (<see cref="SetQuery"/>), then scans a block range for any group of them, and every code
/// block is loaded once per group instead of once per query (FAISS's query-blocked fast-scan). The estimates equal
/// those of the codec's <see cref="IBlockScorer"/> for the same query bit for bit, so a batched search finds what the
/// same searches one by one find. Made by <see cref="VectorCodec.CreateBatchScorer"/>. Not thread-safe, like every
/// scorer.
/// </summary>
public abstract class BlockBatchScorer
{
    /// <summary>How many queries it holds (indexes 0 … Capacity − 1).</summary>
    public abstract int Capacity { get; }

    /// <summary>Sets query <paramref name="index"/> (its tables), replacing the one held there.</summary>
    public abstract void SetQuery(int index, ReadOnlySpan<float> query);

    /// <summary>
    /// <see cref="IBlockScorer.ScanBlocksBelow"/> for each query <c>members[g]</c> against its own threshold
    /// <c>thresholds[g]</c>: its candidates' positions go to <c>positions[g·count …]</c>, their distances to
    /// <c>distances[g·count …]</c>, and their number to <c>found[g]</c>. Both output spans need
    /// <c>members.Length · count</c> entries.
    /// </summary>
    public abstract void ScanBlocksBelow(ReadOnlySpan<int> members, ReadOnlySpan<byte> packed, int count, ReadOnlySpan<float> thresholds,
        Span<int> positions, Span<float> distances, Span<int> found);
}
