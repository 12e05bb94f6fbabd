using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace VectorStore.Distance;

/// <summary>Float32 squared Euclidean distance with 512/256/128-bit paths and a scalar reference. Thread-safe.</summary>
public static class SquaredL2
{
    /// <summary>Σ (a[i] − b[i])². Spans must have equal length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) DotProduct.ThrowLengths();
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        int n = a.Length;
        int i = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                var d0 = Vector512.LoadUnsafe(ref pa, (nuint)i) - Vector512.LoadUnsafe(ref pb, (nuint)i);
                var d1 = Vector512.LoadUnsafe(ref pa, (nuint)(i + 16)) - Vector512.LoadUnsafe(ref pb, (nuint)(i + 16));
                acc0 = Vector512.FusedMultiplyAdd(d0, d0, acc0);
                acc1 = Vector512.FusedMultiplyAdd(d1, d1, acc1);
            }
            for (; i <= n - 16; i += 16)
            {
                var d = Vector512.LoadUnsafe(ref pa, (nuint)i) - Vector512.LoadUnsafe(ref pb, (nuint)i);
                acc0 = Vector512.FusedMultiplyAdd(d, d, acc0);
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var d0 = Vector256.LoadUnsafe(ref pa, (nuint)i) - Vector256.LoadUnsafe(ref pb, (nuint)i);
                var d1 = Vector256.LoadUnsafe(ref pa, (nuint)(i + 8)) - Vector256.LoadUnsafe(ref pb, (nuint)(i + 8));
                acc0 = Vector256.MultiplyAddEstimate(d0, d0, acc0);
                acc1 = Vector256.MultiplyAddEstimate(d1, d1, acc1);
            }
            for (; i <= n - 8; i += 8)
            {
                var d = Vector256.LoadUnsafe(ref pa, (nuint)i) - Vector256.LoadUnsafe(ref pb, (nuint)i);
                acc0 = Vector256.MultiplyAddEstimate(d, d, acc0);
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        else if (Vector128.IsHardwareAccelerated && n >= 4)
        {
            // Four accumulators, as in DotProduct: Arm64 runs this path and would otherwise wait on one add chain.
            Vector128<float> acc0 = Vector128<float>.Zero, acc1 = Vector128<float>.Zero, acc2 = Vector128<float>.Zero, acc3 = Vector128<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var d0 = Vector128.LoadUnsafe(ref pa, (nuint)i) - Vector128.LoadUnsafe(ref pb, (nuint)i);
                var d1 = Vector128.LoadUnsafe(ref pa, (nuint)(i + 4)) - Vector128.LoadUnsafe(ref pb, (nuint)(i + 4));
                var d2 = Vector128.LoadUnsafe(ref pa, (nuint)(i + 8)) - Vector128.LoadUnsafe(ref pb, (nuint)(i + 8));
                var d3 = Vector128.LoadUnsafe(ref pa, (nuint)(i + 12)) - Vector128.LoadUnsafe(ref pb, (nuint)(i + 12));
                acc0 = Vector128.MultiplyAddEstimate(d0, d0, acc0);
                acc1 = Vector128.MultiplyAddEstimate(d1, d1, acc1);
                acc2 = Vector128.MultiplyAddEstimate(d2, d2, acc2);
                acc3 = Vector128.MultiplyAddEstimate(d3, d3, acc3);
            }
            for (; i <= n - 4; i += 4)
            {
                var d = Vector128.LoadUnsafe(ref pa, (nuint)i) - Vector128.LoadUnsafe(ref pb, (nuint)i);
                acc0 = Vector128.MultiplyAddEstimate(d, d, acc0);
            }
            sum = Vector128.Sum((acc0 + acc1) + (acc2 + acc3));
        }
        for (; i < n; i++)
        {
            float d = Unsafe.Add(ref pa, i) - Unsafe.Add(ref pb, i);
            sum += d * d;
        }
        return sum;
    }

    /// <summary>The scalar reference every vector path is tested against.</summary>
    public static float ComputeScalar(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) DotProduct.ThrowLengths();
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = (double)a[i] - b[i];
            sum += d * d;
        }
        return (float)sum;
    }
}
