using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace VectorStore.Distance;

/// <summary>
/// The squared-L2 distance table of product quantization: for sub-space s (input dimensions
/// <c>offsets[s] .. offsets[s+1]</c>) and centroid j, <c>table[s·width + j] = Σ_d (query[d] − centroid_{s,j}[d])²</c>.
/// 512/256/128-bit paths and a scalar reference. Stateless and thread-safe.
/// </summary>
/// <remarks>
/// Centroids are stored dimension-major: <c>centroidsByDimension[d·width + j]</c> is coordinate d (an input
/// dimension) of centroid j of the sub-space containing d, so the array has <c>dimension·width</c> floats and a
/// sub-space's 16 centroids (4-bit PQ) are one 512-bit row per input dimension. The differences are accumulated
/// directly rather than as ‖q‖² − 2q·c + ‖c‖², which cancels badly when the query is close to a centroid.
/// </remarks>
public static class PqTableL2
{
    /// <summary>
    /// Fills <c>table[0 .. M·width)</c>, M = <c>offsets.Length − 1</c>. <paramref name="width"/> (centroids per
    /// sub-space) must be a positive multiple of 16. Matches <see cref="ComputeScalar"/> within float rounding.
    /// </summary>
    public static void Compute(ReadOnlySpan<float> query, ReadOnlySpan<float> centroidsByDimension, ReadOnlySpan<int> offsets,
        int width, Span<float> table)
    {
        Check(query, centroidsByDimension, offsets, width, table);
        ref float q = ref MemoryMarshal.GetReference(query);
        ref float c = ref MemoryMarshal.GetReference(centroidsByDimension);
        ref float t = ref MemoryMarshal.GetReference(table);
        if (Vector512.IsHardwareAccelerated) Compute512(ref q, ref c, offsets, width, ref t);
        else if (Vector256.IsHardwareAccelerated) Compute256(ref q, ref c, offsets, width, ref t);
        else if (Vector128.IsHardwareAccelerated) Compute128(ref q, ref c, offsets, width, ref t);
        else ComputeScalar(query, centroidsByDimension, offsets, width, table);
    }

    /// <summary>The scalar reference every vector path is tested against (double-precision sums).</summary>
    public static void ComputeScalar(ReadOnlySpan<float> query, ReadOnlySpan<float> centroidsByDimension, ReadOnlySpan<int> offsets,
        int width, Span<float> table)
    {
        Check(query, centroidsByDimension, offsets, width, table);
        for (int s = 0; s < offsets.Length - 1; s++)
            for (int j = 0; j < width; j++)
            {
                double sum = 0;
                for (int d = offsets[s]; d < offsets[s + 1]; d++)
                {
                    double diff = (double)query[d] - centroidsByDimension[d * width + j];
                    sum += diff * diff;
                }
                table[s * width + j] = (float)sum;
            }
    }

    /// <summary>
    /// Validates the shapes once so the vector paths can read without bounds checks: offsets start at 0, never
    /// decrease and end at the query length.
    /// </summary>
    internal static void Check(ReadOnlySpan<float> query, ReadOnlySpan<float> centroidsByDimension, ReadOnlySpan<int> offsets,
        int width, Span<float> table)
    {
        if (width <= 0 || width % 16 != 0) throw new ArgumentOutOfRangeException(nameof(width), $"width must be a positive multiple of 16, got {width}");
        if (offsets.Length < 2 || offsets[0] != 0 || offsets[^1] != query.Length)
            throw new ArgumentException($"offsets must run from 0 to the query length {query.Length}");
        for (int s = 1; s < offsets.Length; s++)
            if (offsets[s] < offsets[s - 1]) throw new ArgumentException("offsets must not decrease");
        if (centroidsByDimension.Length < (long)query.Length * width)
            throw new ArgumentException($"centroids hold {centroidsByDimension.Length} values, need {(long)query.Length * width}");
        if (table.Length < (long)(offsets.Length - 1) * width)
            throw new ArgumentException($"table has {table.Length} entries, needs {(long)(offsets.Length - 1) * width}");
    }

    // Four independent accumulators per step: one accumulator per sub-space chains only a few dependent multiply-adds,
    // which leaves the FMA units idle for most of their latency.
    private static void Compute512(ref float q, ref float c, ReadOnlySpan<int> offsets, int width, ref float t)
    {
        int m = offsets.Length - 1;
        for (int s = 0; s < m; s++)
        {
            int start = offsets[s], sd = offsets[s + 1] - start;
            ref float qs = ref Unsafe.Add(ref q, start);
            ref float rows = ref Unsafe.Add(ref c, (nint)start * width);
            ref float dst = ref Unsafe.Add(ref t, (nint)s * width);
            if (width == 16 && s + 4 <= m && offsets[s + 2] - offsets[s + 1] == sd && offsets[s + 3] - offsets[s + 2] == sd
                && offsets[s + 4] - offsets[s + 3] == sd)
            {
                // Four sub-spaces of equal size: their query slices and rows follow each other.
                Block512(ref qs, ref rows, sd, width, sd, (nint)sd * width, ref dst);
                s += 3;
                continue;
            }
            int j = 0;
            for (; j + 64 <= width; j += 64)
                Block512(ref qs, ref Unsafe.Add(ref rows, j), sd, width, 0, 16, ref Unsafe.Add(ref dst, j));
            for (; j < width; j += 16)
            {
                var acc = Vector512<float>.Zero;
                for (int d = start; d < start + sd; d++)
                {
                    var diff = Vector512.Create(Unsafe.Add(ref q, d)) - Vector512.LoadUnsafe(ref c, (nuint)((nint)d * width + j));
                    acc = Vector512.FusedMultiplyAdd(diff, diff, acc);
                }
                acc.StoreUnsafe(ref dst, (nuint)j);
            }
        }
    }

    /// <summary>
    /// Four 16-centroid outputs at <c>dst + 16k</c>, k = 0..3, each summing <paramref name="sd"/> terms of query
    /// element <c>q[k·qStep + d]</c> and centroid row <c>c[k·cStep + d·width]</c>. Not inlined: inside the caller's
    /// loops the JIT runs out of registers and spills the row pointers.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Block512(ref float q, ref float c, int sd, int width, int qStep, nint cStep, ref float dst)
    {
        nint q1 = qStep, q2 = 2 * q1, q3 = 3 * q1;
        nuint c1 = (nuint)cStep, c2 = 2 * c1, c3 = 3 * c1;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int d = 0; d < sd; d++)
        {
            var e0 = Vector512.Create(q) - Vector512.LoadUnsafe(ref c);
            a0 = Vector512.FusedMultiplyAdd(e0, e0, a0);
            var e1 = Vector512.Create(Unsafe.Add(ref q, q1)) - Vector512.LoadUnsafe(ref c, c1);
            a1 = Vector512.FusedMultiplyAdd(e1, e1, a1);
            var e2 = Vector512.Create(Unsafe.Add(ref q, q2)) - Vector512.LoadUnsafe(ref c, c2);
            a2 = Vector512.FusedMultiplyAdd(e2, e2, a2);
            var e3 = Vector512.Create(Unsafe.Add(ref q, q3)) - Vector512.LoadUnsafe(ref c, c3);
            a3 = Vector512.FusedMultiplyAdd(e3, e3, a3);
            q = ref Unsafe.Add(ref q, 1);
            c = ref Unsafe.Add(ref c, width);
        }
        a0.StoreUnsafe(ref dst, 0);
        a1.StoreUnsafe(ref dst, 16);
        a2.StoreUnsafe(ref dst, 32);
        a3.StoreUnsafe(ref dst, 48);
    }

    private static void Compute256(ref float q, ref float c, ReadOnlySpan<int> offsets, int width, ref float t)
    {
        for (int s = 0; s < offsets.Length - 1; s++)
        {
            int start = offsets[s], end = offsets[s + 1];
            ref float dst = ref Unsafe.Add(ref t, (nint)s * width);
            for (int j = 0; j < width; j += 8)
            {
                var acc = Vector256<float>.Zero;
                for (int d = start; d < end; d++)
                {
                    var diff = Vector256.Create(Unsafe.Add(ref q, d)) - Vector256.LoadUnsafe(ref c, (nuint)((nint)d * width + j));
                    acc = Vector256.MultiplyAddEstimate(diff, diff, acc);
                }
                acc.StoreUnsafe(ref dst, (nuint)j);
            }
        }
    }

    private static void Compute128(ref float q, ref float c, ReadOnlySpan<int> offsets, int width, ref float t)
    {
        for (int s = 0; s < offsets.Length - 1; s++)
        {
            int start = offsets[s], end = offsets[s + 1];
            ref float dst = ref Unsafe.Add(ref t, (nint)s * width);
            for (int j = 0; j < width; j += 4)
            {
                var acc = Vector128<float>.Zero;
                for (int d = start; d < end; d++)
                {
                    var diff = Vector128.Create(Unsafe.Add(ref q, d)) - Vector128.LoadUnsafe(ref c, (nuint)((nint)d * width + j));
                    acc = Vector128.MultiplyAddEstimate(diff, diff, acc);
                }
                acc.StoreUnsafe(ref dst, (nuint)j);
            }
        }
    }
}
