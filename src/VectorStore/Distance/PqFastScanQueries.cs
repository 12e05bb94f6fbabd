using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VectorStore.Distance;

public static unsafe partial class PqFastScan
{
    /// <summary>
    /// <see cref="Accumulate"/> for several queries over the same blocks: for member g, with its table at
    /// <c>luts[16·m·members[g]]</c>, <c>sums[g·32·blockCount + 32·b + v] = Σ_j lut_g[16·j + index_j(v)]</c>.
    /// </summary>
    /// <remarks>
    /// One load and nibble split of code bytes serves up to four queries' lookups (AVX-512BW, 64 bytes per load; two
    /// queries with AVX2, 32 bytes),
    /// as FAISS's query-blocked fast-scan kernels do: the single-query loop is bound by its vector pipes, and the load
    /// and the three nibble operations are a quarter of its work per lookup. Other targets run <see cref="Accumulate"/>
    /// per member. Integer arithmetic: every path equals <see cref="AccumulateQueriesScalar"/> exactly.
    /// </remarks>
    public static void AccumulateQueries(ReadOnlySpan<byte> blocks, int blockCount, int m, ReadOnlySpan<byte> luts, ReadOnlySpan<int> members,
        Span<ushort> sums)
    {
        CheckQueries(blocks, blockCount, m, luts, members, sums);
        int table = 16 * m, stride = blockCount * BlockVectors;
        int g = 0;
        fixed (byte* b = blocks)
        fixed (byte* l = luts)
        fixed (ushort* s = sums)
        {
            if (Avx512BW.IsSupported)
            {
                for (; g + 4 <= members.Length; g += 4)
                    Accumulate512x4(b, blockCount, m, l + (nint)members[g] * table, l + (nint)members[g + 1] * table,
                        l + (nint)members[g + 2] * table, l + (nint)members[g + 3] * table, s + (nint)g * stride, stride);
                if (g + 2 <= members.Length)
                {
                    Accumulate512x2(b, blockCount, m, l + (nint)members[g] * table, l + (nint)members[g + 1] * table, s + (nint)g * stride, stride);
                    g += 2;
                }
            }
            else if (Avx2.IsSupported)
            {
                for (; g + 2 <= members.Length; g += 2)
                    Accumulate256x2(b, blockCount, m, l + (nint)members[g] * table, l + (nint)members[g + 1] * table, s + (nint)g * stride, stride);
            }
        }
        for (; g < members.Length; g++)
            Accumulate(blocks, blockCount, m, luts.Slice(members[g] * table, table), sums.Slice(g * stride, stride));
    }

    /// <summary>The scalar reference of <see cref="AccumulateQueries"/>.</summary>
    public static void AccumulateQueriesScalar(ReadOnlySpan<byte> blocks, int blockCount, int m, ReadOnlySpan<byte> luts, ReadOnlySpan<int> members,
        Span<ushort> sums)
    {
        CheckQueries(blocks, blockCount, m, luts, members, sums);
        int table = 16 * m, stride = blockCount * BlockVectors;
        for (int g = 0; g < members.Length; g++)
            AccumulateScalar(blocks, blockCount, m, luts.Slice(members[g] * table, table), sums.Slice(g * stride, stride));
    }

    private static void CheckQueries(ReadOnlySpan<byte> blocks, int blockCount, int m, ReadOnlySpan<byte> luts, ReadOnlySpan<int> members, Span<ushort> sums)
    {
        CheckBlocks(blocks, blockCount, m);
        if (sums.Length < (long)members.Length * blockCount * BlockVectors) throw new ArgumentException("sums span is too short");
        int tables = luts.Length / (16 * m);
        foreach (int member in members)
            if ((uint)member >= (uint)tables) throw new ArgumentOutOfRangeException(nameof(members), $"member {member} has no table in luts (it holds {tables})");
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // its 16 vector accumulators need the whole register file
    private static void Accumulate512x4(byte* blocks, int blockCount, int m, byte* l0, byte* l1, byte* l2, byte* l3, ushort* sums, int stride)
    {
        int bb = BlockBytes(m);
        int full = m & ~3;
        var low = Vector512.Create((byte)0x0F);
        for (int b = 0; b < blockCount; b++)
        {
            byte* p = blocks + (nint)b * bb;
            Vector512<ushort> w0 = default, o0 = default, hw0 = default, ho0 = default;
            Vector512<ushort> w1 = default, o1 = default, hw1 = default, ho1 = default;
            Vector512<ushort> w2 = default, o2 = default, hw2 = default, ho2 = default;
            Vector512<ushort> w3 = default, o3 = default, hw3 = default, ho3 = default;
            for (int j = 0; j < full; j += 4)
            {
                var v = Vector512.Load(p + j * 16);
                var lo = v & low;
                var hi = Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low;
                Lookup512(Vector512.Load(l0 + j * 16), lo, hi, ref w0, ref o0, ref hw0, ref ho0);
                Lookup512(Vector512.Load(l1 + j * 16), lo, hi, ref w1, ref o1, ref hw1, ref ho1);
                Lookup512(Vector512.Load(l2 + j * 16), lo, hi, ref w2, ref o2, ref hw2, ref ho2);
                Lookup512(Vector512.Load(l3 + j * 16), lo, hi, ref w3, ref o3, ref hw3, ref ho3);
            }
            ushort* dst = sums + (nint)b * BlockVectors;
            Finish(Fold(w0), Fold(o0), Fold(hw0), Fold(ho0), p, l0, full, m, dst);
            Finish(Fold(w1), Fold(o1), Fold(hw1), Fold(ho1), p, l1, full, m, dst + stride);
            Finish(Fold(w2), Fold(o2), Fold(hw2), Fold(ho2), p, l2, full, m, dst + 2 * (nint)stride);
            Finish(Fold(w3), Fold(o3), Fold(hw3), Fold(ho3), p, l3, full, m, dst + 3 * (nint)stride);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // inlined into a caller's loop, its accumulators were spilled
    private static void Accumulate512x2(byte* blocks, int blockCount, int m, byte* l0, byte* l1, ushort* sums, int stride)
    {
        int bb = BlockBytes(m);
        int full = m & ~3;
        var low = Vector512.Create((byte)0x0F);
        for (int b = 0; b < blockCount; b++)
        {
            byte* p = blocks + (nint)b * bb;
            Vector512<ushort> w0 = default, o0 = default, hw0 = default, ho0 = default;
            Vector512<ushort> w1 = default, o1 = default, hw1 = default, ho1 = default;
            for (int j = 0; j < full; j += 4)
            {
                var v = Vector512.Load(p + j * 16);
                var lo = v & low;
                var hi = Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low;
                Lookup512(Vector512.Load(l0 + j * 16), lo, hi, ref w0, ref o0, ref hw0, ref ho0);
                Lookup512(Vector512.Load(l1 + j * 16), lo, hi, ref w1, ref o1, ref hw1, ref ho1);
            }
            ushort* dst = sums + (nint)b * BlockVectors;
            Finish(Fold(w0), Fold(o0), Fold(hw0), Fold(ho0), p, l0, full, m, dst);
            Finish(Fold(w1), Fold(o1), Fold(hw1), Fold(ho1), p, l1, full, m, dst + stride);
        }
    }

    /// <summary>One 512-bit lookup step on nibbles already split out of the codes (see <see cref="Step512"/>, which splits them for one query).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Lookup512(Vector512<byte> t, Vector512<byte> lo, Vector512<byte> hi, ref Vector512<ushort> words, ref Vector512<ushort> odd,
        ref Vector512<ushort> hiWords, ref Vector512<ushort> hiOdd)
    {
        var rl = Avx512BW.Shuffle(t, lo).AsUInt16();
        var rh = Avx512BW.Shuffle(t, hi).AsUInt16();
        words += rl;
        odd += Vector512.ShiftRightLogical(rl, 8);
        hiWords += rh;
        hiOdd += Vector512.ShiftRightLogical(rh, 8);
    }

    [MethodImpl(MethodImplOptions.NoInlining)] // inlined into a caller's loop, its accumulators were spilled
    private static void Accumulate256x2(byte* blocks, int blockCount, int m, byte* l0, byte* l1, ushort* sums, int stride)
    {
        int bb = BlockBytes(m);
        var low = Vector256.Create((byte)0x0F);
        for (int b = 0; b < blockCount; b++)
        {
            byte* p = blocks + (nint)b * bb;
            Vector256<ushort> w0 = default, o0 = default, hw0 = default, ho0 = default;
            Vector256<ushort> w1 = default, o1 = default, hw1 = default, ho1 = default;
            for (int j = 0; j < m; j += 2)
            {
                var v = Vector256.Load(p + j * 16);
                var lo = v & low;
                var hi = Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low;
                Lookup256(Vector256.Load(l0 + j * 16), lo, hi, ref w0, ref o0, ref hw0, ref ho0);
                Lookup256(Vector256.Load(l1 + j * 16), lo, hi, ref w1, ref o1, ref hw1, ref ho1);
            }
            ushort* dst = sums + (nint)b * BlockVectors;
            Finish(Fold(w0), Fold(o0), Fold(hw0), Fold(ho0), p, l0, m, m, dst);
            Finish(Fold(w1), Fold(o1), Fold(hw1), Fold(ho1), p, l1, m, m, dst + stride);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Lookup256(Vector256<byte> t, Vector256<byte> lo, Vector256<byte> hi, ref Vector256<ushort> words, ref Vector256<ushort> odd,
        ref Vector256<ushort> hiWords, ref Vector256<ushort> hiOdd)
    {
        var rl = Avx2.Shuffle(t, lo).AsUInt16();
        var rh = Avx2.Shuffle(t, hi).AsUInt16();
        words += rl;
        odd += Vector256.ShiftRightLogical(rl, 8);
        hiWords += rh;
        hiOdd += Vector256.ShiftRightLogical(rh, 8);
    }
}
