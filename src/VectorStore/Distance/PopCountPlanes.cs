using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace VectorStore.Distance;

/// <summary>
/// The popcount kernel of 1-bit codes scored against a query held as four bit-planes of 4-bit levels (<c>bin</c>):
/// <c>ones = popcount(bits)</c> and <c>Σ_j 2^j · popcount(bits ∧ plane_j)</c>, which is the sum of the query levels
/// at the code's set bits. x86 counts 64-bit words with <c>popcnt</c>; Arm64 has no scalar popcount (each one is a
/// round trip through a vector register), so it counts 128 bits per step with NEON <c>cnt</c> and adds the weighted
/// byte counts with <c>uadalp</c>. Integer arithmetic: every path equals <see cref="ComputeScalar"/> exactly.
/// Stateless and thread-safe.
/// </summary>
public static class PopCountPlanes
{
    /// <summary>Bit-planes per query (4-bit levels).</summary>
    public const int Planes = 4;

    /// <summary>
    /// For <c>w = bits.Length</c> words and <paramref name="planes"/> holding plane j at words <c>[j·w, (j+1)·w)</c>:
    /// returns <c>Σ_j 2^j · popcount(bits ∧ plane_j)</c> and sets <paramref name="ones"/> to <c>popcount(bits)</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Compute(ReadOnlySpan<ulong> bits, ReadOnlySpan<ulong> planes, out int ones)
    {
        int words = bits.Length;
        Check(words, planes.Length);
        if (AdvSimd.Arm64.IsSupported && words >= 2)
        {
            ref ulong b = ref MemoryMarshal.GetReference(bits);
            ref ulong p = ref MemoryMarshal.GetReference(planes);
            int pairs = words & ~1;
            int weighted = SumNeon(ref b, ref p, words, pairs, out ones);
            for (int w = pairs; w < words; w++)
            {
                ulong x = Unsafe.Add(ref b, w);
                ones += BitOperations.PopCount(x);
                weighted += Weighted(x, Unsafe.Add(ref p, w), Unsafe.Add(ref p, words + w), Unsafe.Add(ref p, 2 * words + w), Unsafe.Add(ref p, 3 * words + w));
            }
            return weighted;
        }
        return ComputeScalar(bits, planes, out ones);
    }

    /// <summary>The scalar reference (and the x86 path: <see cref="BitOperations.PopCount(ulong)"/> is <c>popcnt</c>).</summary>
    public static int ComputeScalar(ReadOnlySpan<ulong> bits, ReadOnlySpan<ulong> planes, out int ones)
    {
        int words = bits.Length;
        Check(words, planes.Length);
        ReadOnlySpan<ulong> p0 = planes[..words], p1 = planes.Slice(words, words), p2 = planes.Slice(2 * words, words), p3 = planes.Slice(3 * words, words);
        int count = 0, weighted = 0;
        for (int w = 0; w < words; w++)
        {
            ulong x = bits[w];
            count += BitOperations.PopCount(x);
            weighted += Weighted(x, p0[w], p1[w], p2[w], p3[w]);
        }
        ones = count;
        return weighted;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Weighted(ulong x, ulong p0, ulong p1, ulong p2, ulong p3) =>
        BitOperations.PopCount(x & p0) + 2 * BitOperations.PopCount(x & p1) + 4 * BitOperations.PopCount(x & p2) + 8 * BitOperations.PopCount(x & p3);

    private static void Check(int words, int planeWords)
    {
        if (planeWords < (long)Planes * words)
            throw new ArgumentException($"planes hold {planeWords} words, {Planes} planes of {words} need {(long)Planes * words}");
    }

    /// <summary>The first <paramref name="pairs"/> words (an even count), two per step.</summary>
    private static int SumNeon(ref ulong bits, ref ulong planes, int words, int pairs, out int ones)
    {
        ref ulong p0 = ref planes;
        ref ulong p1 = ref Unsafe.Add(ref planes, words);
        ref ulong p2 = ref Unsafe.Add(ref planes, 2 * words);
        ref ulong p3 = ref Unsafe.Add(ref planes, 3 * words);
        int weighted = 0, count = 0, w = 0;
        while (w < pairs)
        {
            // A uint16 lane takes two bytes of at most 15·8 = 120 per step: 256 steps cannot overflow it.
            int end = Math.Min(pairs, w + 2 * 256);
            Vector128<ushort> accWeighted = Vector128<ushort>.Zero, accOnes = Vector128<ushort>.Zero;
            for (; w < end; w += 2)
            {
                var x = Vector128.LoadUnsafe(ref bits, (nuint)w).AsByte();
                var c0 = AdvSimd.PopCount(x & Vector128.LoadUnsafe(ref p0, (nuint)w).AsByte());
                var c1 = AdvSimd.PopCount(x & Vector128.LoadUnsafe(ref p1, (nuint)w).AsByte());
                var c2 = AdvSimd.PopCount(x & Vector128.LoadUnsafe(ref p2, (nuint)w).AsByte());
                var c3 = AdvSimd.PopCount(x & Vector128.LoadUnsafe(ref p3, (nuint)w).AsByte());
                // Per byte c0 + 2·c1 + 4·c2 + 8·c3 ≤ 120: the weighting stays in bytes, widened once per step.
                var s = c0 + (c1 << 1) + (c2 << 2) + (c3 << 3);
                accWeighted = AdvSimd.AddPairwiseWideningAndAdd(accWeighted, s);
                accOnes = AdvSimd.AddPairwiseWideningAndAdd(accOnes, AdvSimd.PopCount(x));
            }
            weighted += (int)AdvSimd.Arm64.AddAcrossWidening(accWeighted).ToScalar();
            count += (int)AdvSimd.Arm64.AddAcrossWidening(accOnes).ToScalar();
        }
        ones = count;
        return weighted;
    }
}
