using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VectorStore.Distance;

/// <summary>
/// Exact integer inner product Σ u_i·q_i of unsigned w-bit codes u (w ∈ {1, 2, 4, 8}) packed into bytes with an int8
/// query q. Thread-safe (stateless).
/// </summary>
/// <remarks>
/// <para>Layout ("sliced groups"): with k = 8/w values per byte, a group of 16 bytes holds 16·k consecutive values;
/// byte j of group g holds value <c>16k·g + 16s + j</c> in bits <c>s·w … s·w + w − 1</c> for slice s = 0 … k−1. So one
/// shift and one mask per slice turn 16 bytes (or 32, 64 with wider registers) into 16 (32, 64) lanes of values,
/// whatever the register width, and the layout on disk does not depend on the CPU.</para>
/// <para>The query is passed pre-split to match (<see cref="SplitQuery"/>): slice-major,
/// <c>split[s·G·16 + 16g + j] = q[16k·g + 16s + j]</c> with G groups, so slice s of consecutive groups is contiguous
/// for every register width. Values past the real length are 0 on both sides.</para>
/// <para>Integer sums are exact, so every path returns the same value as <see cref="ComputeScalar"/>: products are at
/// most 255·128 in magnitude, and for w ≤ 4 the <c>vpmaddubsw</c> pair sums of all k slices of a load add up to at
/// most k·2·(2^w − 1)·128 ≤ 7,680, so they stay in int16 without saturation; 8-bit
/// values are widened to int16 first. The int32 total cannot overflow below 65,000 dimensions.</para>
/// </remarks>
public static class PackedCodeDot
{
    /// <summary>Bytes that <paramref name="count"/> w-bit values occupy (whole 16-byte groups).</summary>
    public static int PackedBytes(int count, int bits) => Groups(count, bits) * 16;

    /// <summary>Length of the split query for <paramref name="count"/> values (the padded value count).</summary>
    public static int SplitLength(int count, int bits) => Groups(count, bits) * 16 * (8 / bits);

    private static int Groups(int count, int bits)
    {
        CheckBits(bits);
        int perGroup = 16 * (8 / bits);
        return (count + perGroup - 1) / perGroup;
    }

    private static void CheckBits(int bits)
    {
        if (bits is not (1 or 2 or 4 or 8)) throw new ArgumentOutOfRangeException(nameof(bits), bits, "packed codes have 1, 2, 4 or 8 bits");
    }

    /// <summary>Packs <paramref name="values"/> (each &lt; 2^bits) into <paramref name="packed"/> (<see cref="PackedBytes"/> bytes).</summary>
    public static void Pack(ReadOnlySpan<byte> values, int bits, Span<byte> packed)
    {
        int groups = Groups(values.Length, bits), k = 8 / bits;
        if (packed.Length < groups * 16) throw new ArgumentException("packed span too short", nameof(packed));
        packed[..(groups * 16)].Clear();
        for (int i = 0; i < values.Length; i++)
        {
            int g = i / (16 * k), s = (i / 16) % k, j = i % 16;
            packed[g * 16 + j] |= (byte)(values[i] << (s * bits));
        }
    }

    /// <summary>Reads back <paramref name="values"/>.Length values packed by <see cref="Pack"/>.</summary>
    public static void Unpack(ReadOnlySpan<byte> packed, int bits, Span<byte> values)
    {
        int k = 8 / bits, mask = (1 << bits) - 1;
        CheckBits(bits);
        for (int i = 0; i < values.Length; i++)
        {
            int g = i / (16 * k), s = (i / 16) % k, j = i % 16;
            values[i] = (byte)((packed[g * 16 + j] >> (s * bits)) & mask);
        }
    }

    /// <summary>Lays out <paramref name="query"/> for w-bit codes into <paramref name="split"/> (<see cref="SplitLength"/> values).</summary>
    public static void SplitQuery(ReadOnlySpan<sbyte> query, int bits, Span<sbyte> split)
    {
        int groups = Groups(query.Length, bits), k = 8 / bits;
        if (split.Length < groups * 16 * k) throw new ArgumentException("split span too short", nameof(split));
        split[..(groups * 16 * k)].Clear();
        for (int i = 0; i < query.Length; i++)
        {
            int g = i / (16 * k), s = (i / 16) % k, j = i % 16;
            split[s * groups * 16 + g * 16 + j] = query[i];
        }
    }

    /// <summary>Σ u_i·q_i over the packed codes and the split query (exact).</summary>
    /// <param name="packed">Whole 16-byte groups of codes (<see cref="Pack"/>).</param>
    /// <param name="split">The query laid out by <see cref="SplitQuery"/> for as many groups.</param>
    /// <param name="bits">w: 1, 2, 4 or 8.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Compute(ReadOnlySpan<byte> packed, ReadOnlySpan<sbyte> split, int bits)
    {
        // k = 8 / bits without a division (an idiv costs as much as a short code's whole kernel).
        int groups = packed.Length >> 4, k = bits switch { 1 => 8, 2 => 4, 4 => 2, 8 => 1, _ => 0 };
        if (k == 0) ThrowShape(bits);
        if ((packed.Length & 15) != 0 || split.Length != groups * 16 * k) ThrowShape(bits);
        ref byte pc = ref MemoryMarshal.GetReference(packed);
        ref sbyte pq = ref MemoryMarshal.GetReference(split);
        int stride = groups * 16;   // distance between slices in the split query
        int g = 0, sum = 0;
        byte mask = (byte)((1 << bits) - 1);
        if (Avx512BW.IsSupported && groups >= 4)
        {
            var acc = Vector512<int>.Zero;
            var m = Vector512.Create(mask);
            var ones = Vector512.Create((short)1);
            for (; g <= groups - 4; g += 4)
            {
                var c = Vector512.LoadUnsafe(ref pc, (nuint)(g * 16));
                if (bits == 8)
                {
                    var q = Vector512.LoadUnsafe(ref pq, (nuint)(g * 16));
                    var (clo, chi) = Vector512.Widen(c);
                    var (qlo, qhi) = Vector512.Widen(q);
                    acc += Avx512BW.MultiplyAddAdjacent(clo.AsInt16(), qlo) + Avx512BW.MultiplyAddAdjacent(chi.AsInt16(), qhi);
                    continue;
                }
                if (bits == 4)
                {
                    // The common width unrolled, with constant shifts.
                    var lo = Vector512.LoadUnsafe(ref pq, (nuint)(g * 16));
                    var hi = Vector512.LoadUnsafe(ref pq, (nuint)(stride + g * 16));
                    var p4 = Avx512BW.MultiplyAddAdjacent(c & m, lo) + Avx512BW.MultiplyAddAdjacent((c.AsUInt16() >> 4).AsByte() & m, hi);
                    acc += Avx512BW.MultiplyAddAdjacent(p4, ones);
                    continue;
                }
                // The slices' int16 pair sums add up to at most k·2·(2^w − 1)·128 ≤ 7,680: widen once per load.
                var pairs = Vector512<short>.Zero;
                for (int s = 0; s < k; s++)
                {
                    var q = Vector512.LoadUnsafe(ref pq, (nuint)(s * stride + g * 16));
                    pairs += Avx512BW.MultiplyAddAdjacent((c.AsUInt16() >> (s * bits)).AsByte() & m, q);
                }
                acc += Avx512BW.MultiplyAddAdjacent(pairs, ones);
            }
            sum += Vector512.Sum(acc);
        }
        if (Avx2.IsSupported && groups - g >= 2)
        {
            var acc = Vector256<int>.Zero;
            var m = Vector256.Create(mask);
            var ones = Vector256.Create((short)1);
            for (; g <= groups - 2; g += 2)
            {
                var c = Vector256.LoadUnsafe(ref pc, (nuint)(g * 16));
                if (bits == 8)
                {
                    var q = Vector256.LoadUnsafe(ref pq, (nuint)(g * 16));
                    var (clo, chi) = Vector256.Widen(c);
                    var (qlo, qhi) = Vector256.Widen(q);
                    acc += Avx2.MultiplyAddAdjacent(clo.AsInt16(), qlo) + Avx2.MultiplyAddAdjacent(chi.AsInt16(), qhi);
                    continue;
                }
                if (bits == 4)
                {
                    // The common width unrolled, with constant shifts.
                    var lo = Vector256.LoadUnsafe(ref pq, (nuint)(g * 16));
                    var hi = Vector256.LoadUnsafe(ref pq, (nuint)(stride + g * 16));
                    var p4 = Avx2.MultiplyAddAdjacent(c & m, lo) + Avx2.MultiplyAddAdjacent((c.AsUInt16() >> 4).AsByte() & m, hi);
                    acc += Avx2.MultiplyAddAdjacent(p4, ones);
                    continue;
                }
                // The slices' int16 pair sums add up to at most k·2·(2^w − 1)·128 ≤ 7,680: widen once per load.
                var pairs = Vector256<short>.Zero;
                for (int s = 0; s < k; s++)
                {
                    var q = Vector256.LoadUnsafe(ref pq, (nuint)(s * stride + g * 16));
                    pairs += Avx2.MultiplyAddAdjacent((c.AsUInt16() >> (s * bits)).AsByte() & m, q);
                }
                acc += Avx2.MultiplyAddAdjacent(pairs, ones);
            }
            sum += Vector256.Sum(acc);
        }
        if (Ssse3.IsSupported && g < groups)
        {
            // The x86 tail (one group at a time, e.g. the last of 3 groups of 1-bit codes at 384-d): the same
            // multiply-add pairs as above on 16 bytes.
            var acc = Vector128<int>.Zero;
            var m = Vector128.Create(mask);
            var ones = Vector128.Create((short)1);
            for (; g < groups; g++)
            {
                var c = Vector128.LoadUnsafe(ref pc, (nuint)(g * 16));
                if (bits == 8)
                {
                    var q = Vector128.LoadUnsafe(ref pq, (nuint)(g * 16));
                    var (clo, chi) = Vector128.Widen(c);
                    var (qlo, qhi) = Vector128.Widen(q);
                    acc += Sse2.MultiplyAddAdjacent(clo.AsInt16(), qlo) + Sse2.MultiplyAddAdjacent(chi.AsInt16(), qhi);
                    continue;
                }
                var pairs = Vector128<short>.Zero;
                for (int s = 0; s < k; s++)
                {
                    var q = Vector128.LoadUnsafe(ref pq, (nuint)(s * stride + g * 16));
                    pairs += Ssse3.MultiplyAddAdjacent((c.AsUInt16() >> (s * bits)).AsByte() & m, q);
                }
                acc += Sse2.MultiplyAddAdjacent(pairs, ones);
            }
            sum += Vector128.Sum(acc);
        }
        if (Vector128.IsHardwareAccelerated && g < groups)
        {
            // Portable path (SSE without AVX2, Arm64 NEON): widen values and query to int16, multiply (|u·q| ≤ 255·128
            // fits int16), widen the products to int32.
            var acc = Vector128<int>.Zero;
            var m = Vector128.Create(mask);
            for (; g < groups; g++)
            {
                var c = Vector128.LoadUnsafe(ref pc, (nuint)(g * 16));
                for (int s = 0; s < k; s++)
                {
                    var q = Vector128.LoadUnsafe(ref pq, (nuint)(s * stride + g * 16));
                    var u = bits == 8 ? c : (c.AsUInt16() >> (s * bits)).AsByte() & m;
                    var (ulo, uhi) = Vector128.Widen(u);
                    var (qlo, qhi) = Vector128.Widen(q);
                    var (p0, p1) = Vector128.Widen(ulo.AsInt16() * qlo);
                    var (p2, p3) = Vector128.Widen(uhi.AsInt16() * qhi);
                    acc += (p0 + p1) + (p2 + p3);
                }
            }
            sum += Vector128.Sum(acc);
        }
        for (; g < groups; g++)
        {
            for (int s = 0; s < k; s++)
            {
                for (int j = 0; j < 16; j++)
                {
                    int u = (Unsafe.Add(ref pc, g * 16 + j) >> (s * bits)) & mask;
                    sum += u * Unsafe.Add(ref pq, s * stride + g * 16 + j);
                }
            }
        }
        return sum;
    }

    /// <summary>The scalar reference: unpacks each value by the layout's definition and multiplies.</summary>
    public static int ComputeScalar(ReadOnlySpan<byte> packed, ReadOnlySpan<sbyte> split, int bits)
    {
        int groups = packed.Length >> 4, k = 8 / bits;
        if ((packed.Length & 15) != 0 || split.Length != groups * 16 * k) ThrowShape(bits);
        int mask = (1 << bits) - 1, sum = 0, n = groups * 16 * k;
        for (int i = 0; i < n; i++)
        {
            int g = i / (16 * k), s = (i / 16) % k, j = i % 16;
            int u = (packed[g * 16 + j] >> (s * bits)) & mask;
            sum += u * split[s * groups * 16 + g * 16 + j];
        }
        return sum;
    }

    private static void ThrowShape(int bits)
    {
        CheckBits(bits);
        throw new ArgumentException("packed codes must be whole 16-byte groups and the split query must match them");
    }
}
