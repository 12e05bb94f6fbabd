using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace VectorStore.Distance;

/// <summary>
/// Asymmetric inner product of a float32 query with an int8 code: Σ q[i]·c[i]. The int8 lanes are widened
/// to int32 and converted to float (no VNNI needed) so the result keeps full float precision of the query.
/// Stateless and thread-safe.
/// </summary>
public static class DotProductF32I8
{
    /// <summary>Σ query[i]·code[i]. Spans must have equal length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Compute(ReadOnlySpan<float> query, ReadOnlySpan<sbyte> code)
    {
        if (query.Length != code.Length) DotProduct.ThrowLengths();
        ref float pq = ref MemoryMarshal.GetReference(query);
        ref sbyte pc = ref MemoryMarshal.GetReference(code);
        int n = query.Length;
        int i = 0;
        float sum = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 64)
        {
            Vector512<float> acc0 = Vector512<float>.Zero, acc1 = Vector512<float>.Zero;
            for (; i <= n - 64; i += 64)
            {
                var c = Vector512.LoadUnsafe(ref pc, (nuint)i);
                var (lo16, hi16) = Vector512.Widen(c);
                var (a, b) = Vector512.Widen(lo16);
                var (d, e) = Vector512.Widen(hi16);
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pq, (nuint)i), Vector512.ConvertToSingle(a), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pq, (nuint)(i + 16)), Vector512.ConvertToSingle(b), acc1);
                acc0 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pq, (nuint)(i + 32)), Vector512.ConvertToSingle(d), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref pq, (nuint)(i + 48)), Vector512.ConvertToSingle(e), acc1);
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        if (Vector256.IsHardwareAccelerated && n - i >= 32)
        {
            Vector256<float> acc0 = Vector256<float>.Zero, acc1 = Vector256<float>.Zero;
            for (; i <= n - 32; i += 32)
            {
                var c = Vector256.LoadUnsafe(ref pc, (nuint)i);
                var (lo16, hi16) = Vector256.Widen(c);
                var (a, b) = Vector256.Widen(lo16);
                var (d, e) = Vector256.Widen(hi16);
                acc0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref pq, (nuint)i), Vector256.ConvertToSingle(a), acc0);
                acc1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref pq, (nuint)(i + 8)), Vector256.ConvertToSingle(b), acc1);
                acc0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref pq, (nuint)(i + 16)), Vector256.ConvertToSingle(d), acc0);
                acc1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref pq, (nuint)(i + 24)), Vector256.ConvertToSingle(e), acc1);
            }
            sum += Vector256.Sum(acc0 + acc1);
        }
        if (Vector128.IsHardwareAccelerated && n - i >= 16)
        {
            // The whole loop on Arm64 (no wider vectors there): four accumulators, so four multiply-adds are in flight
            // instead of one chain waiting on each add's latency.
            Vector128<float> acc0 = Vector128<float>.Zero, acc1 = Vector128<float>.Zero, acc2 = Vector128<float>.Zero, acc3 = Vector128<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                var c = Vector128.LoadUnsafe(ref pc, (nuint)i);
                var (lo16, hi16) = Vector128.Widen(c);
                var (a, b) = Vector128.Widen(lo16);
                var (d, e) = Vector128.Widen(hi16);
                acc0 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref pq, (nuint)i), Vector128.ConvertToSingle(a), acc0);
                acc1 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref pq, (nuint)(i + 4)), Vector128.ConvertToSingle(b), acc1);
                acc2 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref pq, (nuint)(i + 8)), Vector128.ConvertToSingle(d), acc2);
                acc3 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref pq, (nuint)(i + 12)), Vector128.ConvertToSingle(e), acc3);
            }
            sum += Vector128.Sum((acc0 + acc1) + (acc2 + acc3));
        }
        for (; i < n; i++)
            sum += Unsafe.Add(ref pq, i) * Unsafe.Add(ref pc, i);
        return sum;
    }

    /// <summary>The scalar reference.</summary>
    public static float ComputeScalar(ReadOnlySpan<float> query, ReadOnlySpan<sbyte> code)
    {
        if (query.Length != code.Length) DotProduct.ThrowLengths();
        double sum = 0;
        for (int i = 0; i < query.Length; i++) sum += (double)query[i] * code[i];
        return (float)sum;
    }
}
