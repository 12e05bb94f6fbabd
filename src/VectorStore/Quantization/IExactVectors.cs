namespace VectorStore.Quantization;

/// <summary>
/// Full-precision distances by slot, as the refine stage needs them: declared here so that the stage does not depend
/// on Storage (whose <c>IVectorReader</c> extends it). Thread-safety as the implementation's reads.
/// </summary>
internal interface IExactVectors
{
    /// <summary><c>distances[i]</c> = the exact distance of <paramref name="kind"/> from <paramref name="query"/> to the vector of <c>slots[i]</c>.</summary>
    void ComputeDistances(DistanceKind kind, ReadOnlySpan<float> query, ReadOnlySpan<int> slots, Span<float> distances);

    /// <summary>
    /// A hint that the vectors of <paramref name="slots"/> are about to be read (some of them, one at a time): starts
    /// bringing them closer without waiting, so the reads that follow overlap. Not a read (counts as none); may do nothing.
    /// </summary>
    void Prefetch(ReadOnlySpan<int> slots);
}
