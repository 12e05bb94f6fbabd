using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace VectorStore.Distance;

/// <summary>
/// Symmetric int8·int8 inner product with an exact int32 result. Lanes are widened to int16 and combined
/// with multiply-add-adjacent (<c>vpmaddwd</c>) so no partial sum can overflow: each pair sum is at most
/// 2·128² = 32,768 and a 16,384-dimension vector stays far below 2³¹. (Unlike
/// <c>TensorPrimitives.Dot&lt;sbyte&gt;</c>, which accumulates in sbyte and overflows.) On Arm64: <c>sdot</c> (four
/// products summed into each int32 lane) where the CPU has the dot-product extension, else <c>smull</c>/<c>smull2</c>
/// (int16 products, at most 128² = 16,384) and <c>sadalp</c> (pairs added into int32 lanes). Integer arithmetic wraps the
/// same way on every path, so every path equals <see cref="ComputeScalar"/> exactly. Thread-safe.
/// </summary>
public static class DotProductI8
{
    /// <summary>Σ a[i]·b[i] as an exact integer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static int Compute(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        if (a.Length != b.Length) DotProduct.ThrowLengths();
        ref sbyte pa = ref MemoryMarshal.GetReference(a);
        ref sbyte pb = ref MemoryMarshal.GetReference(b);
        int n = a.Length;
        int i = 0;
        int sum = 0;
        if (Avx512BW.IsSupported && n >= 64)
        {
            Vector512<int> acc = Vector512<int>.Zero;
            for (; i <= n - 64; i += 64)
            {
                var (alo, ahi) = Vector512.Widen(Vector512.LoadUnsafe(ref pa, (nuint)i));
                var (blo, bhi) = Vector512.Widen(Vector512.LoadUnsafe(ref pb, (nuint)i));
                acc += Avx512BW.MultiplyAddAdjacent(alo, blo);
                acc += Avx512BW.MultiplyAddAdjacent(ahi, bhi);
            }
            sum = Vector512.Sum(acc);
        }
        if (Avx2.IsSupported && n - i >= 32)
        {
            Vector256<int> acc = Vector256<int>.Zero;
            for (; i <= n - 32; i += 32)
            {
                var (alo, ahi) = Vector256.Widen(Vector256.LoadUnsafe(ref pa, (nuint)i));
                var (blo, bhi) = Vector256.Widen(Vector256.LoadUnsafe(ref pb, (nuint)i));
                acc += Avx2.MultiplyAddAdjacent(alo, blo);
                acc += Avx2.MultiplyAddAdjacent(ahi, bhi);
            }
            sum += Vector256.Sum(acc);
        }
        if (AdvSimd.Arm64.IsSupported && n >= 16)
        {
            i = n & ~15;
            sum = Dp.IsSupported ? SumDp(ref pa, ref pb, i) : SumWidening(ref pa, ref pb, i);
        }
        if (Vector128.IsHardwareAccelerated && n - i >= 16)
        {
            // Portable path (SSE2 without AVX2): widen twice to int32 and multiply.
            Vector128<int> acc = Vector128<int>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var (alo, ahi) = Vector128.Widen(Vector128.LoadUnsafe(ref pa, (nuint)i));
                var (blo, bhi) = Vector128.Widen(Vector128.LoadUnsafe(ref pb, (nuint)i));
                var (a0, a1) = Vector128.Widen(alo);
                var (a2, a3) = Vector128.Widen(ahi);
                var (b0, b1) = Vector128.Widen(blo);
                var (b2, b3) = Vector128.Widen(bhi);
                acc += a0 * b0 + a1 * b1 + a2 * b2 + a3 * b3;
            }
            sum += Vector128.Sum(acc);
        }
        for (; i < n; i++)
            sum += Unsafe.Add(ref pa, i) * Unsafe.Add(ref pb, i);
        return sum;
    }

    /// <summary>Arm64 with the dot-product extension: the first <paramref name="count"/> (a multiple of 16) lanes.</summary>
    private static int SumDp(ref sbyte a, ref sbyte b, int count)
    {
        Vector128<int> acc0 = Vector128<int>.Zero, acc1 = Vector128<int>.Zero;
        int i = 0;
        for (; i <= count - 32; i += 32)
        {
            acc0 = Dp.DotProduct(acc0, Vector128.LoadUnsafe(ref a, (nuint)i), Vector128.LoadUnsafe(ref b, (nuint)i));
            acc1 = Dp.DotProduct(acc1, Vector128.LoadUnsafe(ref a, (nuint)(i + 16)), Vector128.LoadUnsafe(ref b, (nuint)(i + 16)));
        }
        if (i < count) acc0 = Dp.DotProduct(acc0, Vector128.LoadUnsafe(ref a, (nuint)i), Vector128.LoadUnsafe(ref b, (nuint)i));
        return Vector128.Sum(acc0 + acc1);
    }

    /// <summary>Arm64 without it (e.g. Cortex-A53/A72: Raspberry Pi 3 and 4): widening multiply, pairwise add-accumulate.</summary>
    private static int SumWidening(ref sbyte a, ref sbyte b, int count)
    {
        Vector128<int> acc0 = Vector128<int>.Zero, acc1 = Vector128<int>.Zero;
        for (int i = 0; i < count; i += 16)
        {
            var va = Vector128.LoadUnsafe(ref a, (nuint)i);
            var vb = Vector128.LoadUnsafe(ref b, (nuint)i);
            acc0 = AdvSimd.AddPairwiseWideningAndAdd(acc0, AdvSimd.MultiplyWideningLower(va.GetLower(), vb.GetLower()));
            acc1 = AdvSimd.AddPairwiseWideningAndAdd(acc1, AdvSimd.MultiplyWideningUpper(va, vb));
        }
        return Vector128.Sum(acc0 + acc1);
    }

    /// <summary>The scalar reference.</summary>
    public static int ComputeScalar(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        if (a.Length != b.Length) DotProduct.ThrowLengths();
        int sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}
