using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace VectorStore.Distance;

/// <summary>
/// Symmetric int8 squared L2 with an exact int32 result: lanes are widened to int16 before subtracting
/// (a difference spans −255..255) and squared-and-paired with <c>vpmaddwd</c>. On Arm64 the absolute difference fits an
/// unsigned byte (<c>sabd</c>), squared and summed by <c>udot</c> where the CPU has the dot-product extension, else by
/// <c>umull</c>/<c>umull2</c> (uint16 squares, at most 255² = 65,025) and <c>uadalp</c>. Every path equals
/// <see cref="ComputeScalar"/> exactly. Thread-safe.
/// </summary>
public static class SquaredL2I8
{
    /// <summary>Σ (a[i] − b[i])² as an exact integer (dimensions up to 16,384).</summary>
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
                var dlo = alo - blo;
                var dhi = ahi - bhi;
                acc += Avx512BW.MultiplyAddAdjacent(dlo, dlo);
                acc += Avx512BW.MultiplyAddAdjacent(dhi, dhi);
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
                var dlo = alo - blo;
                var dhi = ahi - bhi;
                acc += Avx2.MultiplyAddAdjacent(dlo, dlo);
                acc += Avx2.MultiplyAddAdjacent(dhi, dhi);
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
            Vector128<int> acc = Vector128<int>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var (alo, ahi) = Vector128.Widen(Vector128.LoadUnsafe(ref pa, (nuint)i));
                var (blo, bhi) = Vector128.Widen(Vector128.LoadUnsafe(ref pb, (nuint)i));
                var (d0, d1) = Vector128.Widen(alo - blo);
                var (d2, d3) = Vector128.Widen(ahi - bhi);
                acc += d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3;
            }
            sum += Vector128.Sum(acc);
        }
        for (; i < n; i++)
        {
            int d = Unsafe.Add(ref pa, i) - Unsafe.Add(ref pb, i);
            sum += d * d;
        }
        return sum;
    }

    /// <summary>Arm64 with the dot-product extension: the first <paramref name="count"/> (a multiple of 16) lanes.</summary>
    private static int SumDp(ref sbyte a, ref sbyte b, int count)
    {
        Vector128<uint> acc0 = Vector128<uint>.Zero, acc1 = Vector128<uint>.Zero;
        int i = 0;
        for (; i <= count - 32; i += 32)
        {
            var d0 = AdvSimd.AbsoluteDifference(Vector128.LoadUnsafe(ref a, (nuint)i), Vector128.LoadUnsafe(ref b, (nuint)i));
            var d1 = AdvSimd.AbsoluteDifference(Vector128.LoadUnsafe(ref a, (nuint)(i + 16)), Vector128.LoadUnsafe(ref b, (nuint)(i + 16)));
            acc0 = Dp.DotProduct(acc0, d0, d0);
            acc1 = Dp.DotProduct(acc1, d1, d1);
        }
        if (i < count)
        {
            var d = AdvSimd.AbsoluteDifference(Vector128.LoadUnsafe(ref a, (nuint)i), Vector128.LoadUnsafe(ref b, (nuint)i));
            acc0 = Dp.DotProduct(acc0, d, d);
        }
        return (int)Vector128.Sum(acc0 + acc1);
    }

    /// <summary>Arm64 without it: widening square of the absolute difference, pairwise add-accumulate.</summary>
    private static int SumWidening(ref sbyte a, ref sbyte b, int count)
    {
        Vector128<uint> acc0 = Vector128<uint>.Zero, acc1 = Vector128<uint>.Zero;
        for (int i = 0; i < count; i += 16)
        {
            var d = AdvSimd.AbsoluteDifference(Vector128.LoadUnsafe(ref a, (nuint)i), Vector128.LoadUnsafe(ref b, (nuint)i));
            acc0 = AdvSimd.AddPairwiseWideningAndAdd(acc0, AdvSimd.MultiplyWideningLower(d.GetLower(), d.GetLower()));
            acc1 = AdvSimd.AddPairwiseWideningAndAdd(acc1, AdvSimd.MultiplyWideningUpper(d, d));
        }
        return (int)Vector128.Sum(acc0 + acc1);
    }

    /// <summary>The scalar reference.</summary>
    public static int ComputeScalar(ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b)
    {
        if (a.Length != b.Length) DotProduct.ThrowLengths();
        int sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            int d = a[i] - b[i];
            sum += d * d;
        }
        return sum;
    }
}
