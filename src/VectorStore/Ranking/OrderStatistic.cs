using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VectorStore.Ranking;

/// <summary>
/// The k-th smallest of a set of values without sorting it: quickselect (median-of-three pivots, three-way partition
/// in branch-free passes so runs of equal values cost nothing) in expected linear time, falling back to a sort of the
/// remaining range if the pivots keep being poor. It returns exactly the element a full sort would put at index k. sq8 training needs two
/// quantiles per dimension, and sorting every column was 40 % of ingesting a fresh collection; a reservoir
/// <see cref="TopK"/> compacts its 64-bit (distance, slot) keys with it. Stateless.
/// </summary>
public static class OrderStatistic
{
    /// <summary>
    /// Rearranges <paramref name="values"/> so that index <paramref name="k"/> holds the value a sort would put there,
    /// everything before it is ≤ it and everything after it is ≥ it; returns that value. Values must not be NaN.
    /// </summary>
    public static float Select(Span<float> values, int k) => Select<float>(values, k);

    /// <summary>
    /// <see cref="Select(Span{float}, int)"/> for any ordered value type (specialised per type by the JIT, so no
    /// interface calls).
    /// </summary>
    public static T Select<T>(Span<T> values, int k) where T : struct, IComparisonOperators<T, T, bool>
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
            T pivot = MedianOfThree(values[lo], values[lo + (hi - lo) / 2], values[hi]);
            // Three-way partition in two branch-free passes: [lo, lt) < pivot, then [lt, gt] == pivot. The second runs
            // only when the k-th lies at or after lt. A branchy single-pass Dutch flag mispredicts about every second
            // element on random input; these loops do not branch on the data.
            int lt = PartitionBefore(values, lo, hi, pivot, orEqual: false);
            if (k < lt)
            {
                hi = lt - 1;
                continue;
            }
            int gt = PartitionBefore(values, lt, hi, pivot, orEqual: true) - 1;
            if (k > gt) lo = gt + 1;
            else return pivot;
        }
        return values[k];
    }

    /// <summary>
    /// Moves the values of [lo, hi] that are below <paramref name="pivot"/> (or equal, with <paramref name="orEqual"/>)
    /// to the front of the range, keeping the others behind them; returns the end of the front part. Lomuto's scheme
    /// with an unconditional swap and a conditional increment, so the loop has no data-dependent branch.
    /// </summary>
    private static int PartitionBefore<T>(Span<T> values, int lo, int hi, T pivot, bool orEqual) where T : struct, IComparisonOperators<T, T, bool>
    {
        ref T first = ref MemoryMarshal.GetReference(values);
        int store = lo;
        for (int i = lo; i <= hi; i++)
        {
            T v = Unsafe.Add(ref first, i);
            bool front = orEqual ? v <= pivot : v < pivot;
            Unsafe.Add(ref first, i) = Unsafe.Add(ref first, store);
            Unsafe.Add(ref first, store) = v;
            store += Unsafe.BitCast<bool, byte>(front);
        }
        return store;
    }

    private static T MedianOfThree<T>(T a, T b, T c) where T : IComparisonOperators<T, T, bool> =>
        a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
}
