using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace VectorStore.Distance;

/// <summary>
/// The 4-bit product-quantization fast-scan kernel: sums 8-bit lookup-table entries for blocks of 32 codes with
/// in-register table lookups (<c>vpshufb</c>: AVX-512BW 4 sub-quantizers per instruction, AVX2 2, SSSE3 1; on Arm64
/// NEON <c>tbl</c>, 1; a scalar fallback elsewhere). Integer arithmetic, so every path equals
/// <see cref="AccumulateScalar"/> exactly. Stateless and thread-safe.
/// </summary>
/// <remarks>
/// Block layout (<see cref="BlockBytes"/> = 16·M bytes per 32 codes): for sub-quantizer j, 16 bytes at
/// <c>16·j</c>; byte i holds the index of code i in its low nibble and of code i+16 in its high nibble.
/// The lookup table holds 16 bytes per sub-quantizer. Sums accumulate in 16-bit lanes: each entry is ≤ 255 and
/// M ≤ <see cref="MaxSubQuantizers"/>, so a sum is at most 256·255 = 65,280 and cannot overflow.
/// </remarks>
public static unsafe partial class PqFastScan
{
    /// <summary>Codes per block.</summary>
    public const int BlockVectors = 32;

    /// <summary>Largest M whose sums fit 16 bits.</summary>
    public const int MaxSubQuantizers = 256;

    /// <summary>Bytes of one block of 32 codes for <paramref name="m"/> sub-quantizers.</summary>
    public static int BlockBytes(int m) => m * 16;

    /// <summary>Writes the 4-bit <paramref name="index"/> of code <paramref name="position"/> (0 … 31) for sub-quantizer
    /// <paramref name="j"/> into <paramref name="block"/>, leaving the other code of that byte alone.</summary>
    public static void SetIndex(Span<byte> block, int j, int position, int index)
    {
        ref byte b = ref block[j * 16 + (position & 15)];
        b = position >= 16 ? (byte)((b & 0x0F) | (index << 4)) : (byte)((b & 0xF0) | index);
    }

    /// <summary>The 4-bit index of code <paramref name="position"/> (0 … 31) for sub-quantizer <paramref name="j"/>.</summary>
    public static int GetIndex(ReadOnlySpan<byte> block, int j, int position)
    {
        int b = block[j * 16 + (position & 15)];
        return position >= 16 ? b >> 4 : b & 15;
    }

    /// <summary>
    /// For every code v of every block b: <c>sums[32·b + v] = Σ_j lut[16·j + index_j(v)]</c>.
    /// <paramref name="m"/> must be even and at most <see cref="MaxSubQuantizers"/>.
    /// </summary>
    public static void Accumulate(ReadOnlySpan<byte> blocks, int blockCount, int m, ReadOnlySpan<byte> lut, Span<ushort> sums)
    {
        Check(blocks, blockCount, m, lut, sums);
        fixed (byte* b = blocks)
        fixed (byte* l = lut)
        fixed (ushort* s = sums)
        {
            if (Avx512BW.IsSupported) Accumulate512(b, blockCount, m, l, s);
            else if (Avx2.IsSupported) Accumulate256(b, blockCount, m, l, s);
            else if (Ssse3.IsSupported) Accumulate128(b, blockCount, m, l, s);
            else if (AdvSimd.Arm64.IsSupported) AccumulateNeon(b, blockCount, m, l, s);
            else AccumulateScalar(blocks, blockCount, m, lut, sums);
        }
    }

    private static void Check(ReadOnlySpan<byte> blocks, int blockCount, int m, ReadOnlySpan<byte> lut, Span<ushort> sums)
    {
        CheckBlocks(blocks, blockCount, m);
        if (lut.Length < m * 16) throw new ArgumentException("lookup table is too short");
        if (sums.Length < (long)blockCount * BlockVectors) throw new ArgumentException("sums span is too short");
    }

    /// <summary>M is even and in range, and <paramref name="blocks"/> holds <paramref name="blockCount"/> blocks.</summary>
    private static void CheckBlocks(ReadOnlySpan<byte> blocks, int blockCount, int m)
    {
        if (m <= 0 || m % 2 != 0 || m > MaxSubQuantizers) throw new ArgumentOutOfRangeException(nameof(m), $"M must be even and in 2..{MaxSubQuantizers}, got {m}");
        if (blockCount < 0 || blocks.Length < (long)blockCount * BlockBytes(m)) throw new ArgumentException("blocks span is too short");
    }

    /// <summary>The scalar reference.</summary>
    public static void AccumulateScalar(ReadOnlySpan<byte> blocks, int blockCount, int m, ReadOnlySpan<byte> lut, Span<ushort> sums)
    {
        Check(blocks, blockCount, m, lut, sums);
        int bb = BlockBytes(m);
        for (int b = 0; b < blockCount; b++)
        {
            var blk = blocks.Slice(b * bb, bb);
            for (int v = 0; v < BlockVectors; v++)
            {
                int s = 0;
                for (int j = 0; j < m; j++)
                {
                    int packed = blk[j * 16 + (v & 15)];
                    int idx = v < 16 ? packed & 15 : packed >> 4;
                    s += lut[j * 16 + idx];
                }
                sums[b * BlockVectors + v] = (ushort)s;
            }
        }
    }

    // Unlike the other kernels, the fast-scan kernels are left to tiering: compiled with AggressiveOptimization they
    // ran about 20 % slower in steady state (IVF over pq:96x4 on the text set) than the JIT's promoted tier-1 code.
    private static void Accumulate512(byte* blocks, int blockCount, int m, byte* lut, ushort* sums)
    {
        int bb = BlockBytes(m);
        int full = m & ~3;
        int b = 0;
        // Two blocks per pass share every table load.
        for (; b + 2 <= blockCount; b += 2)
        {
            byte* p0 = blocks + (nint)b * bb, p1 = p0 + bb;
            Vector512<ushort> w0 = default, o0 = default, hw0 = default, ho0 = default;
            Vector512<ushort> w1 = default, o1 = default, hw1 = default, ho1 = default;
            for (int j = 0; j < full; j += 4)
            {
                var t = Vector512.Load(lut + j * 16);
                Step512(t, Vector512.Load(p0 + j * 16), ref w0, ref o0, ref hw0, ref ho0);
                Step512(t, Vector512.Load(p1 + j * 16), ref w1, ref o1, ref hw1, ref ho1);
            }
            Finish(Fold(w0), Fold(o0), Fold(hw0), Fold(ho0), p0, lut, full, m, sums + (nint)b * BlockVectors);
            Finish(Fold(w1), Fold(o1), Fold(hw1), Fold(ho1), p1, lut, full, m, sums + (nint)(b + 1) * BlockVectors);
        }
        for (; b < blockCount; b++)
        {
            byte* p = blocks + (nint)b * bb;
            Vector512<ushort> w = default, o = default, hw = default, ho = default;
            for (int j = 0; j < full; j += 4)
                Step512(Vector512.Load(lut + j * 16), Vector512.Load(p + j * 16), ref w, ref o, ref hw, ref ho);
            Finish(Fold(w), Fold(o), Fold(hw), Fold(ho), p, lut, full, m, sums + (nint)b * BlockVectors);
        }
    }

    /// <summary>
    /// One lookup step. A looked-up byte pair read as a u16 is even + 256·odd; adding whole words (wrapping) and,
    /// separately, the odd bytes lets <see cref="Finish"/> recover the even sums as words − (odd &lt;&lt; 8): three
    /// operations per lookup instead of four, exact because every true sum is below 2¹⁶.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step512(Vector512<byte> t, Vector512<byte> v, ref Vector512<ushort> words, ref Vector512<ushort> odd,
        ref Vector512<ushort> hiWords, ref Vector512<ushort> hiOdd)
    {
        var low = Vector512.Create((byte)0x0F);
        Lookup512(t, v & low, Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low, ref words, ref odd, ref hiWords, ref hiOdd);
    }

    /// <summary>Adds the M ≡ 2 (mod 4) tail with one 256-bit step, then stores the block's 32 sums.</summary>
    private static void Finish(Vector128<ushort> words, Vector128<ushort> odd, Vector128<ushort> hiWords, Vector128<ushort> hiOdd,
        byte* p, byte* lut, int done, int m, ushort* dst)
    {
        if (done < m)
        {
            var (w, o, hw, ho) = Step256(p + done * 16, lut + done * 16);
            words += Fold(w); odd += Fold(o); hiWords += Fold(hw); hiOdd += Fold(ho);
        }
        Store(words - (odd << 8), odd, hiWords - (hiOdd << 8), hiOdd, dst);
    }

    private static void Accumulate256(byte* blocks, int blockCount, int m, byte* lut, ushort* sums)
    {
        int bb = BlockBytes(m);
        for (int b = 0; b < blockCount; b++)
        {
            byte* p = blocks + (nint)b * bb;
            Vector256<ushort> w = default, o = default, hw = default, ho = default;
            for (int j = 0; j < m; j += 2)
            {
                var (a, c, d, e) = Step256(p + j * 16, lut + j * 16);
                w += a; o += c; hw += d; ho += e;
            }
            Finish(Fold(w), Fold(o), Fold(hw), Fold(ho), p, lut, m, m, sums + (nint)b * BlockVectors);
        }
    }

    /// <summary>Two sub-quantizers: whole looked-up words and odd bytes, for codes 0–15 and 16–31 (see <see cref="Step512"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<ushort> Words, Vector256<ushort> Odd, Vector256<ushort> HiWords, Vector256<ushort> HiOdd) Step256(byte* p, byte* lut)
    {
        var low = Vector256.Create((byte)0x0F);
        var v = Vector256.Load(p);
        var t = Vector256.Load(lut);
        var rl = Avx2.Shuffle(t, v & low).AsUInt16();
        var rh = Avx2.Shuffle(t, Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low).AsUInt16();
        return (rl, Vector256.ShiftRightLogical(rl, 8), rh, Vector256.ShiftRightLogical(rh, 8));
    }

    private static void Accumulate128(byte* blocks, int blockCount, int m, byte* lut, ushort* sums)
    {
        int bb = BlockBytes(m);
        var low = Vector128.Create((byte)0x0F);
        var even = Vector128.Create((ushort)0x00FF);
        for (int b = 0; b < blockCount; b++)
        {
            byte* p = blocks + (nint)b * bb;
            Vector128<ushort> loE = default, loO = default, hiE = default, hiO = default;
            for (int j = 0; j < m; j++)
            {
                var v = Vector128.Load(p + j * 16);
                var t = Vector128.Load(lut + j * 16);
                var rl = Ssse3.Shuffle(t, v & low).AsUInt16();
                var rh = Ssse3.Shuffle(t, Vector128.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low).AsUInt16();
                loE += rl & even;
                loO += Vector128.ShiftRightLogical(rl, 8);
                hiE += rh & even;
                hiO += Vector128.ShiftRightLogical(rh, 8);
            }
            Store(loE, loO, hiE, hiO, sums + (nint)b * BlockVectors);
        }
    }

    /// <summary>
    /// NEON: <c>tbl</c> looks up 16 entries like <c>pshufb</c>, and <c>uaddw</c>/<c>uaddw2</c> add the looked-up bytes,
    /// widened to 16 bits, straight into accumulators that are already in code order (codes 0–7, 8–15, 16–23, 24–31):
    /// no even/odd split and no interleave at the end, and the high nibbles need one shift (<c>ushr #4</c> on bytes)
    /// and no mask. M is even, so each pass takes two sub-quantizers into separate accumulators (two add chains in
    /// flight instead of one).
    /// </summary>
    private static void AccumulateNeon(byte* blocks, int blockCount, int m, byte* lut, ushort* sums)
    {
        int bb = BlockBytes(m);
        var low = Vector128.Create((byte)0x0F);
        for (int b = 0; b < blockCount; b++)
        {
            byte* p = blocks + (nint)b * bb;
            Vector128<ushort> a0 = default, a1 = default, a2 = default, a3 = default;
            Vector128<ushort> c0 = default, c1 = default, c2 = default, c3 = default;
            for (int j = 0; j < m; j += 2)
            {
                var v = AdvSimd.LoadVector128(p + j * 16);
                var t = AdvSimd.LoadVector128(lut + j * 16);
                var rl = AdvSimd.Arm64.VectorTableLookup(t, v & low);
                var rh = AdvSimd.Arm64.VectorTableLookup(t, AdvSimd.ShiftRightLogical(v, 4));
                a0 = AdvSimd.AddWideningLower(a0, rl.GetLower());
                a1 = AdvSimd.AddWideningUpper(a1, rl);
                a2 = AdvSimd.AddWideningLower(a2, rh.GetLower());
                a3 = AdvSimd.AddWideningUpper(a3, rh);
                v = AdvSimd.LoadVector128(p + j * 16 + 16);
                t = AdvSimd.LoadVector128(lut + j * 16 + 16);
                rl = AdvSimd.Arm64.VectorTableLookup(t, v & low);
                rh = AdvSimd.Arm64.VectorTableLookup(t, AdvSimd.ShiftRightLogical(v, 4));
                c0 = AdvSimd.AddWideningLower(c0, rl.GetLower());
                c1 = AdvSimd.AddWideningUpper(c1, rl);
                c2 = AdvSimd.AddWideningLower(c2, rh.GetLower());
                c3 = AdvSimd.AddWideningUpper(c3, rh);
            }
            ushort* dst = sums + (nint)b * BlockVectors;
            (a0 + c0).Store(dst);
            (a1 + c1).Store(dst + 8);
            (a2 + c2).Store(dst + 16);
            (a3 + c3).Store(dst + 24);
        }
    }

    // Each 128-bit lane of a wide accumulator holds a different sub-quantizer's contributions for the same codes.
    private static Vector128<ushort> Fold(Vector512<ushort> v) => Fold(v.GetLower()) + Fold(v.GetUpper());

    private static Vector128<ushort> Fold(Vector256<ushort> v) => v.GetLower() + v.GetUpper();

    /// <summary>Lane t of the "even" sums is code 2t, of the "odd" sums code 2t+1: interleave back to code order.</summary>
    private static void Store(Vector128<ushort> loE, Vector128<ushort> loO, Vector128<ushort> hiE, Vector128<ushort> hiO, ushort* dst)
    {
        Sse2.UnpackLow(loE, loO).Store(dst);
        Sse2.UnpackHigh(loE, loO).Store(dst + 8);
        Sse2.UnpackLow(hiE, hiO).Store(dst + 16);
        Sse2.UnpackHigh(hiE, hiO).Store(dst + 24);
    }
}
