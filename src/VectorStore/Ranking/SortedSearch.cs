namespace VectorStore.Ranking;

/// <summary>Binary search over ascending sequences. Thread-safety: stateless.</summary>
public static class SortedSearch
{
    /// <summary>The index of the first element of <paramref name="sorted"/> not less than <paramref name="value"/> (its length when none is).</summary>
    public static int LowerBound<T>(ReadOnlySpan<T> sorted, T value) where T : IComparable<T>
    {
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (sorted[mid].CompareTo(value) < 0) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
