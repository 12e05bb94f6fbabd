using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace VectorStore.Distance;

/// <summary>Float32 inner product with 512/256/128-bit paths and a scalar reference. Stateless and thread-safe.</summary>
public static class DotProduct
{
    /// <summary>Σ a[i]·b[i]. Spans must have equal length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Compute(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) ThrowLengths();
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        int n = a.Length;
        int i = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            // Two accumulators hide FMA latency at the dimensions embeddings use (128–1536).
            Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pa, (nuint)i), Vector512.LoadUnsafe(ref pb, (nuint)i), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pa, (nuint)(i + 16)), Vector512.LoadUnsafe(ref pb, (nuint)(i + 16)), acc1);
            }
            for (; i <= n - 16; i += 16)
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pa, (nuint)i), Vector512.LoadUnsafe(ref pb, (nuint)i), acc0);
            sum = Vector512.Sum(acc0 + acc1);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                acc0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref pa, (nuint)i), Vector256.LoadUnsafe(ref pb, (nuint)i), acc0);
                acc1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref pa, (nuint)(i + 8)), Vector256.LoadUnsafe(ref pb, (nuint)(i + 8)), acc1);
            }
            for (; i <= n - 8; i += 8)
                acc0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref pa, (nuint)i), Vector256.LoadUnsafe(ref pb, (nuint)i), acc0);
            sum = Vector256.Sum(acc0 + acc1);
        }
        else if (Vector128.IsHardwareAccelerated && n >= 4)
        {
            // Arm64's path (no wider vectors there): four accumulators keep four fmla in flight; one would leave the
            // loop waiting on each add's latency (3-4 cycles on Cortex-A7x/Neoverse, where 2-4 can issue per cycle).
            Vector128<float> acc0 = Vector128<float>.Zero, acc1 = Vector128<float>.Zero, acc2 = Vector128<float>.Zero, acc3 = Vector128<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                acc0 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref pa, (nuint)i), Vector128.LoadUnsafe(ref pb, (nuint)i), acc0);
                acc1 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref pa, (nuint)(i + 4)), Vector128.LoadUnsafe(ref pb, (nuint)(i + 4)), acc1);
                acc2 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref pa, (nuint)(i + 8)), Vector128.LoadUnsafe(ref pb, (nuint)(i + 8)), acc2);
                acc3 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref pa, (nuint)(i + 12)), Vector128.LoadUnsafe(ref pb, (nuint)(i + 12)), acc3);
            }
            for (; i <= n - 4; i += 4)
                acc0 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref pa, (nuint)i), Vector128.LoadUnsafe(ref pb, (nuint)i), acc0);
            sum = Vector128.Sum((acc0 + acc1) + (acc2 + acc3));
        }
        for (; i < n; i++)
            sum += Unsafe.Add(ref pa, i) * Unsafe.Add(ref pb, i);
        return sum;
    }

    /// <summary>The scalar reference every vector path is tested against.</summary>
    public static float ComputeScalar(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) ThrowLengths();
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return (float)sum;
    }

    internal static void ThrowLengths() => throw new ArgumentException("vectors must have the same length");
}
