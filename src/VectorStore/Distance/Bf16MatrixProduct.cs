using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace VectorStore.Distance;

/// <summary>
/// A dense matrix times one vector, <c>y = A·x</c>, with the matrix held as bfloat16 (the high 16 bits of each
/// float32, rounded to nearest even) and stored input-major: <c>packed[j·outputs + i] = bf16(A[i, j])</c>. Stateless
/// and thread-safe.
/// </summary>
/// <remarks>
/// <para>Why: a query's rotation (<c>opq+pq:…</c>, 384 × 384) reads the whole matrix for one vector, so it is bound by
/// the cache's bandwidth, not by the multiply-adds: 590 KB of float32 per query spends most of its time in L2 and L3
/// (the codes a scan reads in between evict it). Half the bytes halve that, and the input-major order needs no
/// horizontal sum per output: each input value is broadcast once and multiplied into a tile of output accumulators.
/// Measured on the text set's 384-d rotation (scratch program, matrix evicted between calls): 10.4 µs with one dot
/// product per row, 7.9 µs with four rows per query load (<see cref="DotProductBatch"/>), 3.8 µs here.</para>
/// <para>Precision: bfloat16 keeps 8 significant bits, so each matrix entry carries a relative error of at most 2⁻⁸.
/// For an orthogonal rotation of a unit vector each output's error is then about 10⁻⁴ against a typical value of
/// 0.05 at 384 dimensions: far below what 4- or 8-bit codes resolve. Only approximate scores may use it; anything
/// stored or compared exactly uses the float32 matrix.</para>
/// <para>Every path accumulates each output in float32 in input order (a fused multiply-add per input on the 512-bit
/// path, where AVX-512 guarantees one; a multiply-add estimate on the narrower ones, as <see cref="DotProduct"/> does);
/// <see cref="ComputeScalar"/> accumulates in double and is the reference the tests compare with.</para>
/// </remarks>
internal static class Bf16MatrixProduct
{
    /// <summary>
    /// Packs a row-major <paramref name="outputs"/> × <paramref name="inputs"/> float32 matrix into the input-major
    /// bfloat16 layout <see cref="Compute"/> reads.
    /// </summary>
    public static ushort[] Pack(ReadOnlySpan<float> matrix, int outputs, int inputs)
    {
        if (outputs <= 0 || inputs <= 0 || matrix.Length != (long)outputs * inputs)
            throw new ArgumentException($"a {outputs} × {inputs} matrix needs {(long)outputs * inputs} values; got {matrix.Length}");
        var packed = new ushort[(long)outputs * inputs];
        for (int i = 0; i < outputs; i++)
        {
            var row = matrix.Slice(i * inputs, inputs);
            for (int j = 0; j < inputs; j++) packed[(long)j * outputs + i] = ToBf16(row[j]);
        }
        return packed;
    }

    /// <summary>bfloat16 of <paramref name="value"/>, rounded to nearest even; NaN stays NaN.</summary>
    public static ushort ToBf16(float value)
    {
        if (float.IsNaN(value)) return 0x7FC0;
        uint bits = BitConverter.SingleToUInt32Bits(value);
        bits += 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)(bits >> 16);
    }

    /// <summary>The float32 a bfloat16 stands for (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float FromBf16(ushort value) => BitConverter.UInt32BitsToSingle((uint)value << 16);

    /// <summary>
    /// Writes <c>y[i] = Σ_j x[j]·A[i, j]</c> for <c>i</c> in <c>0..outputs-1</c>, where <paramref name="packed"/> is
    /// <see cref="Pack"/>'s layout of A (<c>x.Length</c> inputs). <paramref name="y"/> holds at least
    /// <paramref name="outputs"/> values; nothing past them is written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Compute(ReadOnlySpan<float> x, ReadOnlySpan<ushort> packed, int outputs, Span<float> y)
    {
        int inputs = x.Length;
        Check(inputs, packed.Length, outputs, y.Length);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref ushort a = ref MemoryMarshal.GetReference(packed);
        ref float o = ref MemoryMarshal.GetReference(y);
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= outputs - 128; i += 128) Tile512x8(ref xr, inputs, ref Unsafe.Add(ref a, i), outputs, ref Unsafe.Add(ref o, i));
            for (; i <= outputs - 32; i += 32) Tile512x2(ref xr, inputs, ref Unsafe.Add(ref a, i), outputs, ref Unsafe.Add(ref o, i));
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= outputs - 64; i += 64) Tile256x8(ref xr, inputs, ref Unsafe.Add(ref a, i), outputs, ref Unsafe.Add(ref o, i));
            for (; i <= outputs - 16; i += 16) Tile256x2(ref xr, inputs, ref Unsafe.Add(ref a, i), outputs, ref Unsafe.Add(ref o, i));
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= outputs - 32; i += 32) Tile128x8(ref xr, inputs, ref Unsafe.Add(ref a, i), outputs, ref Unsafe.Add(ref o, i));
            for (; i <= outputs - 8; i += 8) Tile128x2(ref xr, inputs, ref Unsafe.Add(ref a, i), outputs, ref Unsafe.Add(ref o, i));
        }
        // Outputs left over (all of them without SIMD): one column of the packed matrix each.
        for (; i < outputs; i++)
        {
            float s = 0;
            for (int j = 0; j < inputs; j++) s += Unsafe.Add(ref xr, j) * FromBf16(Unsafe.Add(ref a, (nint)j * outputs + i));
            Unsafe.Add(ref o, i) = s;
        }
    }

    /// <summary>The reference the vector paths are tested against: double-precision sums of the same bfloat16 values.</summary>
    public static void ComputeScalar(ReadOnlySpan<float> x, ReadOnlySpan<ushort> packed, int outputs, Span<float> y)
    {
        int inputs = x.Length;
        Check(inputs, packed.Length, outputs, y.Length);
        for (int i = 0; i < outputs; i++)
        {
            double s = 0;
            for (int j = 0; j < inputs; j++) s += (double)x[j] * FromBf16(packed[j * outputs + i]);
            y[i] = (float)s;
        }
    }

    private static void Check(int inputs, int packedLength, int outputs, int yLength)
    {
        if (inputs <= 0 || outputs <= 0 || yLength < outputs || (long)inputs * outputs != packedLength)
            throw new ArgumentException($"{inputs} inputs and {outputs} outputs need a packed matrix of {(long)inputs * outputs} values and {outputs} outputs; got {packedLength} and {yLength}");
    }

    // bfloat16 → float32: widen to 32 bits and move into the high half (exact).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lo(Vector512<ushort> v) => Vector512.ShiftLeft(Vector512.WidenLower(v), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Hi(Vector512<ushort> v) => Vector512.ShiftLeft(Vector512.WidenUpper(v), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Lo(Vector256<ushort> v) => Vector256.ShiftLeft(Vector256.WidenLower(v), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Hi(Vector256<ushort> v) => Vector256.ShiftLeft(Vector256.WidenUpper(v), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Lo(Vector128<ushort> v) => Vector128.ShiftLeft(Vector128.WidenLower(v), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Hi(Vector128<ushort> v) => Vector128.ShiftLeft(Vector128.WidenUpper(v), 16).AsSingle();

    // 128 outputs in eight 16-float accumulators; every input value is broadcast once per tile.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile512x8(ref float x, int inputs, ref ushort a, int stride, ref float o)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        for (int j = 0; j < inputs; j++)
        {
            var b = Vector512.Create(Unsafe.Add(ref x, j));
            ref ushort col = ref Unsafe.Add(ref a, (nint)j * stride);
            var p0 = Vector512.LoadUnsafe(ref col);
            var p1 = Vector512.LoadUnsafe(ref col, 32);
            var p2 = Vector512.LoadUnsafe(ref col, 64);
            var p3 = Vector512.LoadUnsafe(ref col, 96);
            s0 = Vector512.FusedMultiplyAdd(b, Lo(p0), s0);
            s1 = Vector512.FusedMultiplyAdd(b, Hi(p0), s1);
            s2 = Vector512.FusedMultiplyAdd(b, Lo(p1), s2);
            s3 = Vector512.FusedMultiplyAdd(b, Hi(p1), s3);
            s4 = Vector512.FusedMultiplyAdd(b, Lo(p2), s4);
            s5 = Vector512.FusedMultiplyAdd(b, Hi(p2), s5);
            s6 = Vector512.FusedMultiplyAdd(b, Lo(p3), s6);
            s7 = Vector512.FusedMultiplyAdd(b, Hi(p3), s7);
        }
        s0.StoreUnsafe(ref o); s1.StoreUnsafe(ref o, 16); s2.StoreUnsafe(ref o, 32); s3.StoreUnsafe(ref o, 48);
        s4.StoreUnsafe(ref o, 64); s5.StoreUnsafe(ref o, 80); s6.StoreUnsafe(ref o, 96); s7.StoreUnsafe(ref o, 112);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile512x2(ref float x, int inputs, ref ushort a, int stride, ref float o)
    {
        Vector512<float> s0 = default, s1 = default;
        for (int j = 0; j < inputs; j++)
        {
            var b = Vector512.Create(Unsafe.Add(ref x, j));
            var p = Vector512.LoadUnsafe(ref Unsafe.Add(ref a, (nint)j * stride));
            s0 = Vector512.FusedMultiplyAdd(b, Lo(p), s0);
            s1 = Vector512.FusedMultiplyAdd(b, Hi(p), s1);
        }
        s0.StoreUnsafe(ref o); s1.StoreUnsafe(ref o, 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile256x8(ref float x, int inputs, ref ushort a, int stride, ref float o)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        for (int j = 0; j < inputs; j++)
        {
            var b = Vector256.Create(Unsafe.Add(ref x, j));
            ref ushort col = ref Unsafe.Add(ref a, (nint)j * stride);
            var p0 = Vector256.LoadUnsafe(ref col);
            var p1 = Vector256.LoadUnsafe(ref col, 16);
            var p2 = Vector256.LoadUnsafe(ref col, 32);
            var p3 = Vector256.LoadUnsafe(ref col, 48);
            s0 = Vector256.MultiplyAddEstimate(b, Lo(p0), s0);
            s1 = Vector256.MultiplyAddEstimate(b, Hi(p0), s1);
            s2 = Vector256.MultiplyAddEstimate(b, Lo(p1), s2);
            s3 = Vector256.MultiplyAddEstimate(b, Hi(p1), s3);
            s4 = Vector256.MultiplyAddEstimate(b, Lo(p2), s4);
            s5 = Vector256.MultiplyAddEstimate(b, Hi(p2), s5);
            s6 = Vector256.MultiplyAddEstimate(b, Lo(p3), s6);
            s7 = Vector256.MultiplyAddEstimate(b, Hi(p3), s7);
        }
        s0.StoreUnsafe(ref o); s1.StoreUnsafe(ref o, 8); s2.StoreUnsafe(ref o, 16); s3.StoreUnsafe(ref o, 24);
        s4.StoreUnsafe(ref o, 32); s5.StoreUnsafe(ref o, 40); s6.StoreUnsafe(ref o, 48); s7.StoreUnsafe(ref o, 56);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile256x2(ref float x, int inputs, ref ushort a, int stride, ref float o)
    {
        Vector256<float> s0 = default, s1 = default;
        for (int j = 0; j < inputs; j++)
        {
            var b = Vector256.Create(Unsafe.Add(ref x, j));
            var p = Vector256.LoadUnsafe(ref Unsafe.Add(ref a, (nint)j * stride));
            s0 = Vector256.MultiplyAddEstimate(b, Lo(p), s0);
            s1 = Vector256.MultiplyAddEstimate(b, Hi(p), s1);
        }
        s0.StoreUnsafe(ref o); s1.StoreUnsafe(ref o, 8);
    }

    // Eight 4-float accumulators: Arm64 (NEON) has 32 vector registers, so the tile stays in registers there too.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile128x8(ref float x, int inputs, ref ushort a, int stride, ref float o)
    {
        Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        for (int j = 0; j < inputs; j++)
        {
            var b = Vector128.Create(Unsafe.Add(ref x, j));
            ref ushort col = ref Unsafe.Add(ref a, (nint)j * stride);
            var p0 = Vector128.LoadUnsafe(ref col);
            var p1 = Vector128.LoadUnsafe(ref col, 8);
            var p2 = Vector128.LoadUnsafe(ref col, 16);
            var p3 = Vector128.LoadUnsafe(ref col, 24);
            s0 = Vector128.MultiplyAddEstimate(b, Lo(p0), s0);
            s1 = Vector128.MultiplyAddEstimate(b, Hi(p0), s1);
            s2 = Vector128.MultiplyAddEstimate(b, Lo(p1), s2);
            s3 = Vector128.MultiplyAddEstimate(b, Hi(p1), s3);
            s4 = Vector128.MultiplyAddEstimate(b, Lo(p2), s4);
            s5 = Vector128.MultiplyAddEstimate(b, Hi(p2), s5);
            s6 = Vector128.MultiplyAddEstimate(b, Lo(p3), s6);
            s7 = Vector128.MultiplyAddEstimate(b, Hi(p3), s7);
        }
        s0.StoreUnsafe(ref o); s1.StoreUnsafe(ref o, 4); s2.StoreUnsafe(ref o, 8); s3.StoreUnsafe(ref o, 12);
        s4.StoreUnsafe(ref o, 16); s5.StoreUnsafe(ref o, 20); s6.StoreUnsafe(ref o, 24); s7.StoreUnsafe(ref o, 28);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile128x2(ref float x, int inputs, ref ushort a, int stride, ref float o)
    {
        Vector128<float> s0 = default, s1 = default;
        for (int j = 0; j < inputs; j++)
        {
            var b = Vector128.Create(Unsafe.Add(ref x, j));
            var p = Vector128.LoadUnsafe(ref Unsafe.Add(ref a, (nint)j * stride));
            s0 = Vector128.MultiplyAddEstimate(b, Lo(p), s0);
            s1 = Vector128.MultiplyAddEstimate(b, Hi(p), s1);
        }
        s0.StoreUnsafe(ref o); s1.StoreUnsafe(ref o, 4);
    }
}
