namespace VectorStore.Quantization;

/// <summary>
/// Scores codes against one query at a time. Allocation happens in the constructor and, at most, in
/// <see cref="SetQuery"/>; scoring allocates nothing. Not thread-safe: one per search thread.
/// </summary>
public abstract class CodeScorer
{
    /// <summary>Prepares tables or transformed copies of <paramref name="query"/> (dimension = codec input dimension).</summary>
    public abstract void SetQuery(ReadOnlySpan<float> query);

    /// <summary>Estimated distance (lower is better) from the current query to one code.</summary>
    public abstract float Distance(ReadOnlySpan<byte> code);

    /// <summary>
    /// Scores <c>distances.Length</c> consecutive codes laid out contiguously in <paramref name="codes"/>.
    /// Codecs with block kernels override this.
    /// </summary>
    public virtual void DistanceBatch(ReadOnlySpan<byte> codes, int codeSize, Span<float> distances)
    {
        for (int i = 0; i < distances.Length; i++)
            distances[i] = Distance(codes.Slice(i * codeSize, codeSize));
    }
}
