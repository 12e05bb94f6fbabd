namespace VectorStore.Indexing;

/// <summary>
/// An index that partitions vectors into lists around coarse centroids (IVF). The drift sensors read through it how a
/// new vector would be routed and encoded, and how full the lists are, without knowing the index's type.
/// </summary>
/// <remarks>
/// Thread-safety: both members may be called at any time, also while the index is being mutated or rebalanced; a
/// call then sees the lists and centroids either before or after the change (list sizes may mix both), which is
/// enough for statistics and never for search.
/// </remarks>
public interface IPartitionedIndex
{
    /// <summary>Number of lists (coarse centroids).</summary>
    int Lists { get; }

    /// <summary>
    /// Routes <paramref name="vector"/> as an insert would: returns its nearest list, sets
    /// <paramref name="squaredDistance"/> to the squared L2 distance to that list's centroid, and writes into
    /// <paramref name="codecInput"/> what the index's codec encodes for it (its residual to the centroid when lists
    /// hold residual codes, else the vector itself).
    /// </summary>
    int Route(ReadOnlySpan<float> vector, Span<float> codecInput, out float squaredDistance);

    /// <summary>Copies the number of entries of each list into <paramref name="sizes"/> (length <see cref="Lists"/>).</summary>
    void CopyListSizes(Span<int> sizes);
}
