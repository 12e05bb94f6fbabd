using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace VectorStore.Distance;

/// <summary>
/// Quantizes a 4-bit PQ float distance table (16 entries per sub-quantizer) to the one-byte lookup table of
/// <see cref="PqFastScan"/>: <c>lut[16·j + c] = clamp(round((table[16·j + c] − min_j)·scale), 0, 255)</c> with
/// min_j the sub-quantizer's smallest entry and one <c>scale = 255 / max_j(max_j − min_j)</c> (1 when every range
/// is 0). 512/256/128-bit paths and a scalar reference. Stateless and thread-safe.
/// </summary>
/// <remarks>
/// Every path returns the same bytes and scale bit for bit, and the same bias value: min and max are exact whatever
/// the order (the vector paths use the hardware min/max, which may keep −0 where the reference keeps +0: equal values,
/// and the bytes do not change since v − (±0) = v), subtraction and multiplication are each correctly rounded, the
/// bias is summed in sub-quantizer order by scalar code on every path, and rounding is round-half-to-even everywhere
/// (<see cref="MathF.Round(float)"/> in the reference, <c>Vector*.Round</c> in the vector paths). Tables are assumed
/// free of NaN (queries are validated before scoring).
/// </remarks>
public static class PqLutQuantizer
{
    /// <summary>Entries per sub-quantizer.</summary>
    public const int Width = 16;

    /// <summary>
    /// Writes the <c>16·<paramref name="m"/></c> bytes of <paramref name="lut"/>; returns the scale and, in
    /// <paramref name="bias"/>, the sum of the per-sub-quantizer minima (a code's estimate is bias + sum / scale).
    /// </summary>
    public static float Quantize(ReadOnlySpan<float> table, int m, Span<byte> lut, out float bias)
    {
        Check(table, m, lut);
        Span<float> mins = m <= 1024 ? stackalloc float[m] : new float[m];
        ref float t = ref MemoryMarshal.GetReference(table);
        ref byte l = ref MemoryMarshal.GetReference(lut);
        float maxRange;
        if (Vector512.IsHardwareAccelerated) maxRange = MinMax512(ref t, m, mins);
        else if (Vector256.IsHardwareAccelerated) maxRange = MinMax256(ref t, m, mins);
        else if (Vector128.IsHardwareAccelerated) maxRange = MinMax128(ref t, m, mins);
        else return QuantizeScalar(table, m, lut, out bias);
        bias = Sum(mins);
        float scale = maxRange > 0 ? 255f / maxRange : 1f;
        if (Vector512.IsHardwareAccelerated) Bytes512(ref t, m, mins, scale, ref l);
        else if (Vector256.IsHardwareAccelerated) Bytes256(ref t, m, mins, scale, ref l);
        else Bytes128(ref t, m, mins, scale, ref l);
        return scale;
    }

    /// <summary>The scalar reference every vector path must equal exactly.</summary>
    public static float QuantizeScalar(ReadOnlySpan<float> table, int m, Span<byte> lut, out float bias)
    {
        Check(table, m, lut);
        Span<float> mins = m <= 1024 ? stackalloc float[m] : new float[m];
        float maxRange = 0;
        for (int j = 0; j < m; j++)
        {
            float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
            foreach (var v in table.Slice(j * Width, Width)) { lo = MathF.Min(lo, v); hi = MathF.Max(hi, v); }
            mins[j] = lo;
            maxRange = MathF.Max(maxRange, hi - lo);
        }
        bias = Sum(mins);
        float scale = maxRange > 0 ? 255f / maxRange : 1f;
        for (int j = 0; j < m; j++)
            for (int c = 0; c < Width; c++)
                lut[j * Width + c] = Entry(table[j * Width + c], mins[j], scale);
        return scale;
    }

    private static void Check(ReadOnlySpan<float> table, int m, Span<byte> lut)
    {
        if (m <= 0) throw new ArgumentOutOfRangeException(nameof(m), $"M must be positive, got {m}");
        if (table.Length < (long)m * Width) throw new ArgumentException($"table has {table.Length} entries, needs {(long)m * Width}");
        if (lut.Length < (long)m * Width) throw new ArgumentException($"lookup table has {lut.Length} bytes, needs {(long)m * Width}");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Entry(float v, float min, float scale) => (byte)Math.Clamp(MathF.Round((v - min) * scale), 0f, 255f);

    private static float Sum(ReadOnlySpan<float> mins)
    {
        float s = 0;
        foreach (var v in mins) s += v;
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float HorizontalMin(Vector128<float> v)
    {
        // Arm64 has a horizontal minimum (fminv) instead of two shuffle-and-min steps.
        if (AdvSimd.Arm64.IsSupported) return AdvSimd.Arm64.MinAcross(v).ToScalar();
        v = Vector128.MinNative(v, Vector128.Shuffle(v, Vector128.Create(2, 3, 0, 1)));
        return Vector128.MinNative(v, Vector128.Shuffle(v, Vector128.Create(1, 0, 3, 2))).ToScalar();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float HorizontalMax(Vector128<float> v)
    {
        if (AdvSimd.Arm64.IsSupported) return AdvSimd.Arm64.MaxAcross(v).ToScalar();
        v = Vector128.MaxNative(v, Vector128.Shuffle(v, Vector128.Create(2, 3, 0, 1)));
        return Vector128.MaxNative(v, Vector128.Shuffle(v, Vector128.Create(1, 0, 3, 2))).ToScalar();
    }

    private static float MinMax512(ref float t, int m, Span<float> mins)
    {
        float maxRange = 0;
        for (int j = 0; j < m; j++)
        {
            var v = Vector512.LoadUnsafe(ref t, (nuint)(j * Width));
            var lo = Vector256.MinNative(v.GetLower(), v.GetUpper());
            var hi = Vector256.MaxNative(v.GetLower(), v.GetUpper());
            float min = HorizontalMin(Vector128.MinNative(lo.GetLower(), lo.GetUpper()));
            float max = HorizontalMax(Vector128.MaxNative(hi.GetLower(), hi.GetUpper()));
            mins[j] = min;
            if (max - min > maxRange) maxRange = max - min;
        }
        return maxRange;
    }

    private static float MinMax256(ref float t, int m, Span<float> mins)
    {
        float maxRange = 0;
        for (int j = 0; j < m; j++)
        {
            var a = Vector256.LoadUnsafe(ref t, (nuint)(j * Width));
            var b = Vector256.LoadUnsafe(ref t, (nuint)(j * Width + 8));
            var lo = Vector256.MinNative(a, b);
            var hi = Vector256.MaxNative(a, b);
            float min = HorizontalMin(Vector128.MinNative(lo.GetLower(), lo.GetUpper()));
            float max = HorizontalMax(Vector128.MaxNative(hi.GetLower(), hi.GetUpper()));
            mins[j] = min;
            if (max - min > maxRange) maxRange = max - min;
        }
        return maxRange;
    }

    private static float MinMax128(ref float t, int m, Span<float> mins)
    {
        float maxRange = 0;
        for (int j = 0; j < m; j++)
        {
            var a = Vector128.LoadUnsafe(ref t, (nuint)(j * Width));
            var b = Vector128.LoadUnsafe(ref t, (nuint)(j * Width + 4));
            var c = Vector128.LoadUnsafe(ref t, (nuint)(j * Width + 8));
            var d = Vector128.LoadUnsafe(ref t, (nuint)(j * Width + 12));
            float min = HorizontalMin(Vector128.MinNative(Vector128.MinNative(a, b), Vector128.MinNative(c, d)));
            float max = HorizontalMax(Vector128.MaxNative(Vector128.MaxNative(a, b), Vector128.MaxNative(c, d)));
            mins[j] = min;
            if (max - min > maxRange) maxRange = max - min;
        }
        return maxRange;
    }

    /// <summary>round((v − min)·scale) clamped to 0..255, as int lanes; the same operations as <see cref="Entry"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Level512(Vector512<float> v, float min, Vector512<float> scale) =>
        Vector512.ConvertToInt32Native(Vector512.MinNative(Vector512.MaxNative(Vector512.Round((v - Vector512.Create(min)) * scale), Vector512<float>.Zero), Vector512.Create(255f)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Level256(Vector256<float> v, float min, Vector256<float> scale) =>
        Vector256.ConvertToInt32Native(Vector256.MinNative(Vector256.MaxNative(Vector256.Round((v - Vector256.Create(min)) * scale), Vector256<float>.Zero), Vector256.Create(255f)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Level128(Vector128<float> v, float min, Vector128<float> scale) =>
        Vector128.ConvertToInt32Native(Vector128.MinNative(Vector128.MaxNative(Vector128.Round((v - Vector128.Create(min)) * scale), Vector128<float>.Zero), Vector128.Create(255f)));

    // Four sub-quantizers (64 entries) per step: four int vectors narrow to one byte vector, in order.
    private static void Bytes512(ref float t, int m, ReadOnlySpan<float> mins, float scale, ref byte l)
    {
        var s = Vector512.Create(scale);
        int j = 0;
        for (; j + 4 <= m; j += 4)
        {
            nuint o = (nuint)(j * Width);
            var a = Level512(Vector512.LoadUnsafe(ref t, o), mins[j], s);
            var b = Level512(Vector512.LoadUnsafe(ref t, o + 16), mins[j + 1], s);
            var c = Level512(Vector512.LoadUnsafe(ref t, o + 32), mins[j + 2], s);
            var d = Level512(Vector512.LoadUnsafe(ref t, o + 48), mins[j + 3], s);
            Vector512.Narrow(Vector512.Narrow(a, b), Vector512.Narrow(c, d)).AsByte().StoreUnsafe(ref l, o);
        }
        BytesTail(ref t, j, m, mins, scale, ref l);
    }

    // Two sub-quantizers (32 entries) per step.
    private static void Bytes256(ref float t, int m, ReadOnlySpan<float> mins, float scale, ref byte l)
    {
        var s = Vector256.Create(scale);
        int j = 0;
        for (; j + 2 <= m; j += 2)
        {
            nuint o = (nuint)(j * Width);
            var a = Level256(Vector256.LoadUnsafe(ref t, o), mins[j], s);
            var b = Level256(Vector256.LoadUnsafe(ref t, o + 8), mins[j], s);
            var c = Level256(Vector256.LoadUnsafe(ref t, o + 16), mins[j + 1], s);
            var d = Level256(Vector256.LoadUnsafe(ref t, o + 24), mins[j + 1], s);
            Vector256.Narrow(Vector256.Narrow(a, b), Vector256.Narrow(c, d)).AsByte().StoreUnsafe(ref l, o);
        }
        BytesTail(ref t, j, m, mins, scale, ref l);
    }

    // One sub-quantizer (16 entries) per step.
    private static void Bytes128(ref float t, int m, ReadOnlySpan<float> mins, float scale, ref byte l)
    {
        var s = Vector128.Create(scale);
        for (int j = 0; j < m; j++)
        {
            nuint o = (nuint)(j * Width);
            float min = mins[j];
            var a = Level128(Vector128.LoadUnsafe(ref t, o), min, s);
            var b = Level128(Vector128.LoadUnsafe(ref t, o + 4), min, s);
            var c = Level128(Vector128.LoadUnsafe(ref t, o + 8), min, s);
            var d = Level128(Vector128.LoadUnsafe(ref t, o + 12), min, s);
            Vector128.Narrow(Vector128.Narrow(a, b), Vector128.Narrow(c, d)).AsByte().StoreUnsafe(ref l, o);
        }
    }

    private static void BytesTail(ref float t, int from, int m, ReadOnlySpan<float> mins, float scale, ref byte l)
    {
        for (int j = from; j < m; j++)
            for (int c = 0; c < Width; c++)
                Unsafe.Add(ref l, j * Width + c) = Entry(Unsafe.Add(ref t, j * Width + c), mins[j], scale);
    }
}
