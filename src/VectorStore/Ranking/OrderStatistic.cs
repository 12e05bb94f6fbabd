namespace VectorStore.Ranking;

/// <summary>
/// The k-th smallest of a set of values without sorting it: quickselect (median-of-three pivots, three-way partition
/// so runs of equal values cost nothing) in expected linear time, falling back to a sort of the remaining range if the
/// pivots keep being poor. It returns exactly the element a full sort would put at index k. sq8 training needs two
/// quantiles per dimension, and sorting every column was 40 % of ingesting a fresh collection. Stateless.
/// </summary>
public static class OrderStatistic
{
    /// <summary>
    /// Rearranges <paramref name="values"/> so that index <paramref name="k"/> holds the value a sort would put there,
    /// everything before it is ≤ it and everything after it is ≥ it; returns that value. Values must not be NaN.
    /// </summary>
    public static float Select(Span<float> values, int k)
    {
        if ((uint)k >= (uint)values.Length) throw new ArgumentOutOfRangeException(nameof(k), $"k = {k} outside 0..{values.Length - 1}");
        int lo = 0, hi = values.Length - 1;
        int budget = 2 * (32 - int.LeadingZeroCount(values.Length)); // ~2 log2 n rounds before giving up on pivots
        while (hi > lo)
        {
            if (budget-- == 0)
            {
                values[lo..(hi + 1)].Sort();
                break;
            }
            float pivot = MedianOfThree(values[lo], values[lo + (hi - lo) / 2], values[hi]);
            // Dutch-flag partition of [lo, hi] into < pivot, == pivot, > pivot.
            int lt = lo, i = lo, gt = hi;
            while (i <= gt)
            {
                float v = values[i];
                if (v < pivot) (values[lt], values[i]) = (values[i++], values[lt++]);
                else if (v > pivot) (values[gt], values[i]) = (values[i], values[gt--]);
                else i++;
            }
            if (k < lt) hi = lt - 1;
            else if (k > gt) lo = gt + 1;
            else return pivot;
        }
        return values[k];
    }

    private static float MedianOfThree(float a, float b, float c) =>
        a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
}
