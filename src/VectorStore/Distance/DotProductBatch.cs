using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace VectorStore.Distance;

/// <summary>
/// One query against every row of a row-major matrix: <c>dots[r] = query · matrix[r]</c>. Four rows share each
/// query load, which matters because a single dot product issues two loads per multiply-add and is load-bound once
/// the rows are in cache (IVF centroid ranking, k-means assignment). Stateless and thread-safe.
/// </summary>
/// <remarks>
/// Every row is summed in exactly the order <see cref="DotProduct.Compute"/> uses on the same hardware path (the
/// same two accumulators over alternating vector blocks, the same reduction, the same scalar tail), so each result is
/// bit-identical to <c>DotProduct.Compute(query, row)</c>; nearest-centroid decisions therefore do not change.
/// Against <see cref="ComputeScalar"/> (double-precision accumulation) results differ by float rounding only.
/// </remarks>
public static class DotProductBatch
{
    /// <summary>
    /// Writes <c>query · matrix[r]</c> for <c>r</c> in <c>0..rows-1</c> into <paramref name="dots"/>.
    /// <paramref name="matrix"/> holds at least <paramref name="rows"/> rows of <c>query.Length</c> floats;
    /// <paramref name="dots"/> holds at least <paramref name="rows"/> values.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compute(ReadOnlySpan<float> query, ReadOnlySpan<float> matrix, int rows, Span<float> dots)
    {
        int n = query.Length;
        Check(n, matrix.Length, rows, dots.Length);
        if (rows == 0) return;
        ref float q = ref MemoryMarshal.GetReference(query);
        ref float m = ref MemoryMarshal.GetReference(matrix);
        ref float o = ref MemoryMarshal.GetReference(dots);
        int r = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
            for (; r <= rows - 4; r += 4) Block512(ref q, ref Unsafe.Add(ref m, (nint)r * n), n, ref Unsafe.Add(ref o, r));
        else if (Vector256.IsHardwareAccelerated && n >= 8)
            for (; r <= rows - 4; r += 4) Block256(ref q, ref Unsafe.Add(ref m, (nint)r * n), n, ref Unsafe.Add(ref o, r));
        else if (Vector128.IsHardwareAccelerated && n >= 4)
            for (; r <= rows - 4; r += 4) Block128(ref q, ref Unsafe.Add(ref m, (nint)r * n), n, ref Unsafe.Add(ref o, r));
        // Remaining rows (and every row on the scalar path) go through the single-row kernel itself.
        for (; r < rows; r++) Unsafe.Add(ref o, r) = DotProduct.Compute(query, matrix.Slice(r * n, n));
    }

    /// <summary>The reference the vector paths are tested against: one double-precision dot per row.</summary>
    public static void ComputeScalar(ReadOnlySpan<float> query, ReadOnlySpan<float> matrix, int rows, Span<float> dots)
    {
        int n = query.Length;
        Check(n, matrix.Length, rows, dots.Length);
        for (int r = 0; r < rows; r++) dots[r] = DotProduct.ComputeScalar(query, matrix.Slice(r * n, n));
    }

    private static void Check(int n, int matrixLength, int rows, int dotsLength)
    {
        if (rows < 0 || dotsLength < rows || (long)rows * n > matrixLength)
            throw new ArgumentException($"{rows} rows of {n} floats need a matrix of {(long)rows * n} floats and {rows} outputs; got {matrixLength} and {dotsLength}");
    }

    // Mirrors DotProduct.Compute's 512-bit path for four rows at once (acc0: even 16-float blocks, acc1: odd ones).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block512(ref float q, ref float m, int n, ref float o)
    {
        ref float m1 = ref Unsafe.Add(ref m, n);
        ref float m2 = ref Unsafe.Add(ref m, 2 * n);
        ref float m3 = ref Unsafe.Add(ref m, 3 * n);
        Vector512<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            var qa = Vector512.LoadUnsafe(ref q, (nuint)i);
            var qb = Vector512.LoadUnsafe(ref q, (nuint)(i + 16));
            a0 = Vector512.FusedMultiplyAdd(qa, Vector512.LoadUnsafe(ref m, (nuint)i), a0);
            b0 = Vector512.FusedMultiplyAdd(qb, Vector512.LoadUnsafe(ref m, (nuint)(i + 16)), b0);
            a1 = Vector512.FusedMultiplyAdd(qa, Vector512.LoadUnsafe(ref m1, (nuint)i), a1);
            b1 = Vector512.FusedMultiplyAdd(qb, Vector512.LoadUnsafe(ref m1, (nuint)(i + 16)), b1);
            a2 = Vector512.FusedMultiplyAdd(qa, Vector512.LoadUnsafe(ref m2, (nuint)i), a2);
            b2 = Vector512.FusedMultiplyAdd(qb, Vector512.LoadUnsafe(ref m2, (nuint)(i + 16)), b2);
            a3 = Vector512.FusedMultiplyAdd(qa, Vector512.LoadUnsafe(ref m3, (nuint)i), a3);
            b3 = Vector512.FusedMultiplyAdd(qb, Vector512.LoadUnsafe(ref m3, (nuint)(i + 16)), b3);
        }
        for (; i <= n - 16; i += 16)
        {
            var qa = Vector512.LoadUnsafe(ref q, (nuint)i);
            a0 = Vector512.FusedMultiplyAdd(qa, Vector512.LoadUnsafe(ref m, (nuint)i), a0);
            a1 = Vector512.FusedMultiplyAdd(qa, Vector512.LoadUnsafe(ref m1, (nuint)i), a1);
            a2 = Vector512.FusedMultiplyAdd(qa, Vector512.LoadUnsafe(ref m2, (nuint)i), a2);
            a3 = Vector512.FusedMultiplyAdd(qa, Vector512.LoadUnsafe(ref m3, (nuint)i), a3);
        }
        float s0 = Vector512.Sum(a0 + b0), s1 = Vector512.Sum(a1 + b1), s2 = Vector512.Sum(a2 + b2), s3 = Vector512.Sum(a3 + b3);
        Tail(ref q, ref m, n, i, ref o, s0, s1, s2, s3);
    }

    // Mirrors DotProduct.Compute's 256-bit path (MultiplyAddEstimate, two accumulators) for four rows.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block256(ref float q, ref float m, int n, ref float o)
    {
        ref float m1 = ref Unsafe.Add(ref m, n);
        ref float m2 = ref Unsafe.Add(ref m, 2 * n);
        ref float m3 = ref Unsafe.Add(ref m, 3 * n);
        Vector256<float> a0 = default, b0 = default, a1 = default, b1 = default, a2 = default, b2 = default, a3 = default, b3 = default;
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            var qa = Vector256.LoadUnsafe(ref q, (nuint)i);
            var qb = Vector256.LoadUnsafe(ref q, (nuint)(i + 8));
            a0 = Vector256.MultiplyAddEstimate(qa, Vector256.LoadUnsafe(ref m, (nuint)i), a0);
            b0 = Vector256.MultiplyAddEstimate(qb, Vector256.LoadUnsafe(ref m, (nuint)(i + 8)), b0);
            a1 = Vector256.MultiplyAddEstimate(qa, Vector256.LoadUnsafe(ref m1, (nuint)i), a1);
            b1 = Vector256.MultiplyAddEstimate(qb, Vector256.LoadUnsafe(ref m1, (nuint)(i + 8)), b1);
            a2 = Vector256.MultiplyAddEstimate(qa, Vector256.LoadUnsafe(ref m2, (nuint)i), a2);
            b2 = Vector256.MultiplyAddEstimate(qb, Vector256.LoadUnsafe(ref m2, (nuint)(i + 8)), b2);
            a3 = Vector256.MultiplyAddEstimate(qa, Vector256.LoadUnsafe(ref m3, (nuint)i), a3);
            b3 = Vector256.MultiplyAddEstimate(qb, Vector256.LoadUnsafe(ref m3, (nuint)(i + 8)), b3);
        }
        for (; i <= n - 8; i += 8)
        {
            var qa = Vector256.LoadUnsafe(ref q, (nuint)i);
            a0 = Vector256.MultiplyAddEstimate(qa, Vector256.LoadUnsafe(ref m, (nuint)i), a0);
            a1 = Vector256.MultiplyAddEstimate(qa, Vector256.LoadUnsafe(ref m1, (nuint)i), a1);
            a2 = Vector256.MultiplyAddEstimate(qa, Vector256.LoadUnsafe(ref m2, (nuint)i), a2);
            a3 = Vector256.MultiplyAddEstimate(qa, Vector256.LoadUnsafe(ref m3, (nuint)i), a3);
        }
        float s0 = Vector256.Sum(a0 + b0), s1 = Vector256.Sum(a1 + b1), s2 = Vector256.Sum(a2 + b2), s3 = Vector256.Sum(a3 + b3);
        Tail(ref q, ref m, n, i, ref o, s0, s1, s2, s3);
    }

    // Mirrors DotProduct.Compute's 128-bit path (four accumulators over 16-float steps, then 4-float steps into the
    // first) for four rows: sixteen accumulators, which Arm64's 32 vector registers hold.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block128(ref float q, ref float m, int n, ref float o)
    {
        ref float m1 = ref Unsafe.Add(ref m, n);
        ref float m2 = ref Unsafe.Add(ref m, 2 * n);
        ref float m3 = ref Unsafe.Add(ref m, 3 * n);
        Vector128<float> a0 = default, b0 = default, c0 = default, d0 = default, a1 = default, b1 = default, c1 = default, d1 = default;
        Vector128<float> a2 = default, b2 = default, c2 = default, d2 = default, a3 = default, b3 = default, c3 = default, d3 = default;
        int i = 0;
        for (; i <= n - 16; i += 16)
        {
            var qa = Vector128.LoadUnsafe(ref q, (nuint)i);
            var qb = Vector128.LoadUnsafe(ref q, (nuint)(i + 4));
            var qc = Vector128.LoadUnsafe(ref q, (nuint)(i + 8));
            var qd = Vector128.LoadUnsafe(ref q, (nuint)(i + 12));
            Step4(qa, qb, qc, qd, ref m, i, ref a0, ref b0, ref c0, ref d0);
            Step4(qa, qb, qc, qd, ref m1, i, ref a1, ref b1, ref c1, ref d1);
            Step4(qa, qb, qc, qd, ref m2, i, ref a2, ref b2, ref c2, ref d2);
            Step4(qa, qb, qc, qd, ref m3, i, ref a3, ref b3, ref c3, ref d3);
        }
        for (; i <= n - 4; i += 4)
        {
            var qa = Vector128.LoadUnsafe(ref q, (nuint)i);
            a0 = Vector128.MultiplyAddEstimate(qa, Vector128.LoadUnsafe(ref m, (nuint)i), a0);
            a1 = Vector128.MultiplyAddEstimate(qa, Vector128.LoadUnsafe(ref m1, (nuint)i), a1);
            a2 = Vector128.MultiplyAddEstimate(qa, Vector128.LoadUnsafe(ref m2, (nuint)i), a2);
            a3 = Vector128.MultiplyAddEstimate(qa, Vector128.LoadUnsafe(ref m3, (nuint)i), a3);
        }
        Tail(ref q, ref m, n, i, ref o, Vector128.Sum((a0 + b0) + (c0 + d0)), Vector128.Sum((a1 + b1) + (c1 + d1)),
            Vector128.Sum((a2 + b2) + (c2 + d2)), Vector128.Sum((a3 + b3) + (c3 + d3)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step4(Vector128<float> qa, Vector128<float> qb, Vector128<float> qc, Vector128<float> qd, ref float row, int i,
        ref Vector128<float> a, ref Vector128<float> b, ref Vector128<float> c, ref Vector128<float> d)
    {
        a = Vector128.MultiplyAddEstimate(qa, Vector128.LoadUnsafe(ref row, (nuint)i), a);
        b = Vector128.MultiplyAddEstimate(qb, Vector128.LoadUnsafe(ref row, (nuint)(i + 4)), b);
        c = Vector128.MultiplyAddEstimate(qc, Vector128.LoadUnsafe(ref row, (nuint)(i + 8)), c);
        d = Vector128.MultiplyAddEstimate(qd, Vector128.LoadUnsafe(ref row, (nuint)(i + 12)), d);
    }

    // The scalar tail, element by element in DotProduct.Compute's order, then the four results.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tail(ref float q, ref float m, int n, int i, ref float o, float s0, float s1, float s2, float s3)
    {
        ref float m1 = ref Unsafe.Add(ref m, n);
        ref float m2 = ref Unsafe.Add(ref m, 2 * n);
        ref float m3 = ref Unsafe.Add(ref m, 3 * n);
        for (; i < n; i++)
        {
            float qi = Unsafe.Add(ref q, i);
            s0 += qi * Unsafe.Add(ref m, i);
            s1 += qi * Unsafe.Add(ref m1, i);
            s2 += qi * Unsafe.Add(ref m2, i);
            s3 += qi * Unsafe.Add(ref m3, i);
        }
        o = s0;
        Unsafe.Add(ref o, 1) = s1;
        Unsafe.Add(ref o, 2) = s2;
        Unsafe.Add(ref o, 3) = s3;
    }
}
