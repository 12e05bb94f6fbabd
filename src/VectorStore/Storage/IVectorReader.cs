using VectorStore.Distance;

namespace VectorStore.Storage;

/// <summary>
/// Read access to full-precision vectors by slot, wherever they live (in memory or in memory-mapped segments).
/// Thread-safety: reads may run concurrently with each other; callers exclude writers (the collection's locks).
/// </summary>
internal interface IVectorReader
{
    /// <summary>Values per vector.</summary>
    int Dimension { get; }

    /// <summary>The vector of a stored slot (valid until the next write to the store).</summary>
    ReadOnlySpan<float> Get(int slot);

    /// <summary><c>distances[i] = Distances.Compute(kind, query, Get(slots[i]))</c> for every <c>i</c>, bit-identical to that loop.</summary>
    void ComputeDistances(DistanceKind kind, ReadOnlySpan<float> query, ReadOnlySpan<int> slots, Span<float> distances);

    /// <summary>
    /// A hint that the vectors of <paramref name="slots"/> are about to be read (some of them, one at a time): starts
    /// bringing them closer without waiting, so the reads that follow overlap. Not a read (counts as none); may do nothing.
    /// </summary>
    void Prefetch(ReadOnlySpan<int> slots);
}
