namespace VectorStore.Quantization;

/// <summary>
/// Scores codes against one query at a time. Allocation happens in the constructor and, at most, in
/// <see cref="SetQuery"/> or <see cref="SetQueryFromCode"/>; scoring allocates nothing. Not thread-safe: one per
/// search thread.
/// </summary>
/// <param name="codec">The codec whose codes this scorer reads; <see cref="SetQueryFromCode"/> decodes with it.</param>
public abstract class CodeScorer(VectorCodec codec)
{
    private float[]? _decoded;

    /// <summary>Prepares tables or transformed copies of <paramref name="query"/> (dimension = codec input dimension).</summary>
    public abstract void SetQuery(ReadOnlySpan<float> query);

    /// <summary>
    /// Makes the vector a stored code stands for the query, for code-vs-code distances (a graph index linking two of
    /// its nodes). The default decodes the code and calls <see cref="SetQuery"/>; scorers that can read the code
    /// directly override it.
    /// </summary>
    public virtual void SetQueryFromCode(ReadOnlySpan<byte> code)
    {
        _decoded ??= new float[codec.Dimension];
        codec.Decode(code, _decoded);
        SetQuery(_decoded);
    }

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
