using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VectorStore.Distance;

/// <summary>
/// The 4-bit product-quantization fast-scan kernel: sums 8-bit lookup-table entries for blocks of 32 codes with
/// in-register table lookups (<c>vpshufb</c>: AVX-512BW 4 sub-quantizers per instruction, AVX2 2, SSSE3 1; a scalar
/// fallback elsewhere). Integer arithmetic, so every path equals <see cref="AccumulateScalar"/> exactly. Stateless
/// and thread-safe.
/// </summary>
/// <remarks>
/// Block layout (<see cref="BlockBytes"/> = 16·M bytes per 32 codes): for sub-quantizer j, 16 bytes at
/// <c>16·j</c>; byte i holds the index of code i in its low nibble and of code i+16 in its high nibble.
/// The lookup table holds 16 bytes per sub-quantizer. Sums accumulate in 16-bit lanes: each entry is ≤ 255 and
/// M ≤ <see cref="MaxSubQuantizers"/>, so a sum is at most 256·255 = 65,280 and cannot overflow.
/// </remarks>
public static unsafe class PqFastScan
{
    /// <summary>Codes per block.</summary>
    public const int BlockVectors = 32;

    /// <summary>Largest M whose sums fit 16 bits.</summary>
    public const int MaxSubQuantizers = 256;

    /// <summary>Bytes of one block of 32 codes for <paramref name="m"/> sub-quantizers.</summary>
    public static int BlockBytes(int m) => m * 16;

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
            else AccumulateScalar(blocks, blockCount, m, lut, sums);
        }
    }

    private static void Check(ReadOnlySpan<byte> blocks, int blockCount, int m, ReadOnlySpan<byte> lut, Span<ushort> sums)
    {
        if (m <= 0 || m % 2 != 0 || m > MaxSubQuantizers) throw new ArgumentOutOfRangeException(nameof(m), $"M must be even and in 2..{MaxSubQuantizers}, got {m}");
        if (blockCount < 0 || blocks.Length < (long)blockCount * BlockBytes(m)) throw new ArgumentException("blocks span is too short");
        if (lut.Length < m * 16) throw new ArgumentException("lookup table is too short");
        if (sums.Length < (long)blockCount * BlockVectors) throw new ArgumentException("sums span is too short");
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

    private static void Accumulate512(byte* blocks, int blockCount, int m, byte* lut, ushort* sums)
    {
        int bb = BlockBytes(m);
        var low = Vector512.Create((byte)0x0F);
        var even = Vector512.Create((ushort)0x00FF);
        int full = m & ~3;
        for (int b = 0; b < blockCount; b++)
        {
            byte* p = blocks + (nint)b * bb;
            Vector512<ushort> loE = default, loO = default, hiE = default, hiO = default;
            for (int j = 0; j < full; j += 4)
            {
                var v = Vector512.Load(p + j * 16);
                var t = Vector512.Load(lut + j * 16);
                var rl = Avx512BW.Shuffle(t, v & low).AsUInt16();
                var rh = Avx512BW.Shuffle(t, Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low).AsUInt16();
                loE += rl & even;
                loO += Vector512.ShiftRightLogical(rl, 8);
                hiE += rh & even;
                hiO += Vector512.ShiftRightLogical(rh, 8);
            }
            var sLoE = Fold(loE); var sLoO = Fold(loO); var sHiE = Fold(hiE); var sHiO = Fold(hiO);
            if (full < m)
            {
                // M ≡ 2 (mod 4): the last two sub-quantizers in one 256-bit step.
                var (a, c, d, e) = Step256(p + full * 16, lut + full * 16);
                sLoE += Fold(a); sLoO += Fold(c); sHiE += Fold(d); sHiO += Fold(e);
            }
            Store(sLoE, sLoO, sHiE, sHiO, sums + (nint)b * BlockVectors);
        }
    }

    private static void Accumulate256(byte* blocks, int blockCount, int m, byte* lut, ushort* sums)
    {
        int bb = BlockBytes(m);
        for (int b = 0; b < blockCount; b++)
        {
            byte* p = blocks + (nint)b * bb;
            Vector256<ushort> loE = default, loO = default, hiE = default, hiO = default;
            for (int j = 0; j < m; j += 2)
            {
                var (a, c, d, e) = Step256(p + j * 16, lut + j * 16);
                loE += a; loO += c; hiE += d; hiO += e;
            }
            Store(Fold(loE), Fold(loO), Fold(hiE), Fold(hiO), sums + (nint)b * BlockVectors);
        }
    }

    private static (Vector256<ushort> LoE, Vector256<ushort> LoO, Vector256<ushort> HiE, Vector256<ushort> HiO) Step256(byte* p, byte* lut)
    {
        var low = Vector256.Create((byte)0x0F);
        var even = Vector256.Create((ushort)0x00FF);
        var v = Vector256.Load(p);
        var t = Vector256.Load(lut);
        var rl = Avx2.Shuffle(t, v & low).AsUInt16();
        var rh = Avx2.Shuffle(t, Vector256.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low).AsUInt16();
        return (rl & even, Vector256.ShiftRightLogical(rl, 8), rh & even, Vector256.ShiftRightLogical(rh, 8));
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
