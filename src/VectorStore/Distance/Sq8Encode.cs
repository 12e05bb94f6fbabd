using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace VectorStore.Distance;

/// <summary>
/// The sq8 encoding step: <c>q[d] = clamp(round((v[d]·inv − mid[d])·invStep[d]), −127, 127)</c> per dimension, and
/// the squared norm of the decoded vector, <c>Σ ((mid[d] + step[d]·q[d])·scale)²</c>. 512/256/128-bit paths and a
/// scalar reference. Stateless and thread-safe.
/// </summary>
/// <remarks>
/// <para>Every path returns the same bytes and the same norm bit for bit. The codes: each operation is one correctly
/// rounded float multiply or subtract (never fused), rounding is round-half-to-even everywhere
/// (<see cref="MathF.Round(float)"/> in the reference, <c>Vector*.Round</c> in the vector paths), and clamping a finite
/// value by min/max equals <see cref="Math.Clamp(float, float, float)"/>. The norm: each decoded value is squared in
/// double and added into one of eight double accumulators by its dimension modulo 8, in increasing dimension
/// order, and the eight are summed in order at the end. The vector paths keep those eight as lanes (one 512-bit,
/// two 256-bit or four 128-bit registers), so every lane sees the reference's additions in the reference's order.</para>
/// <para>Why a kernel: the per-dimension scalar loop was the largest managed cost of a durable sq8 load in a profile
/// (7 % of the process's CPU, a 50,000 × 384 load with batches of 1,000).</para>
/// <para>Values must be finite (vectors are validated before they are encoded; trained ranges are finite).</para>
/// </remarks>
public static class Sq8Encode
{
    private const float Limit = 127f;

    /// <summary>
    /// Writes <paramref name="codes"/> (one per dimension) and returns the decoded vector's squared norm. All spans
    /// have the vector's length.
    /// </summary>
    public static double Encode(ReadOnlySpan<float> vector, float inv, float scale, ReadOnlySpan<float> mid, ReadOnlySpan<float> step,
        ReadOnlySpan<float> invStep, Span<sbyte> codes)
    {
        int n = Check(vector, mid, step, invStep, codes);
        Span<double> acc = stackalloc double[8];
        acc.Clear();
        int d = 0;
        ref float v = ref MemoryMarshal.GetReference(vector);
        ref float m = ref MemoryMarshal.GetReference(mid);
        ref float s = ref MemoryMarshal.GetReference(step);
        ref float i = ref MemoryMarshal.GetReference(invStep);
        ref sbyte c = ref MemoryMarshal.GetReference(codes);
        if (Vector512.IsHardwareAccelerated) d = Encode512(ref v, ref m, ref s, ref i, ref c, n, inv, scale, acc);
        else if (Vector256.IsHardwareAccelerated) d = Encode256(ref v, ref m, ref s, ref i, ref c, n, inv, scale, acc);
        else if (Vector128.IsHardwareAccelerated) d = Encode128(ref v, ref m, ref s, ref i, ref c, n, inv, scale, acc);
        for (; d < n; d++) codes[d] = One(vector[d], inv, scale, mid[d], step[d], invStep[d], ref acc[d & 7]);
        return Sum(acc);
    }

    /// <summary>The scalar reference every vector path must equal exactly.</summary>
    public static double EncodeScalar(ReadOnlySpan<float> vector, float inv, float scale, ReadOnlySpan<float> mid, ReadOnlySpan<float> step,
        ReadOnlySpan<float> invStep, Span<sbyte> codes)
    {
        int n = Check(vector, mid, step, invStep, codes);
        Span<double> acc = stackalloc double[8];
        acc.Clear();
        for (int d = 0; d < n; d++) codes[d] = One(vector[d], inv, scale, mid[d], step[d], invStep[d], ref acc[d & 7]);
        return Sum(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static sbyte One(float v, float inv, float scale, float mid, float step, float invStep, ref double acc)
    {
        float q = Math.Clamp(MathF.Round((v * inv - mid) * invStep), -Limit, Limit);
        double r = (mid + step * q) * scale;
        acc += r * r;
        return (sbyte)q;
    }

    private static double Sum(ReadOnlySpan<double> acc)
    {
        double sum = 0;
        foreach (double a in acc) sum += a;
        return sum;
    }

    private static int Check(ReadOnlySpan<float> vector, ReadOnlySpan<float> mid, ReadOnlySpan<float> step, ReadOnlySpan<float> invStep, Span<sbyte> codes)
    {
        int n = vector.Length;
        if (mid.Length != n || step.Length != n || invStep.Length != n || codes.Length != n)
            throw new ArgumentException($"sq8 encode: vector {n}, mid {mid.Length}, step {step.Length}, inverse step {invStep.Length}, codes {codes.Length}: lengths differ");
        return n;
    }

    private static int Encode512(ref float v, ref float m, ref float s, ref float i, ref sbyte c, int n, float inv, float scale, Span<double> acc)
    {
        var invV = Vector512.Create(inv);
        var scaleV = Vector512.Create(scale);
        var lo = Vector512.Create(-Limit);
        var hi = Vector512.Create(Limit);
        var sum = Vector512<double>.Zero; // lanes = dimensions mod 8
        int d = 0;
        for (; d <= n - 64; d += 64)
        {
            var q0 = Quantize512(ref v, ref m, ref i, d, invV, lo, hi);
            var q1 = Quantize512(ref v, ref m, ref i, d + 16, invV, lo, hi);
            var q2 = Quantize512(ref v, ref m, ref i, d + 32, invV, lo, hi);
            var q3 = Quantize512(ref v, ref m, ref i, d + 48, invV, lo, hi);
            sum = Norm512(sum, ref m, ref s, d, q0, scaleV);
            sum = Norm512(sum, ref m, ref s, d + 16, q1, scaleV);
            sum = Norm512(sum, ref m, ref s, d + 32, q2, scaleV);
            sum = Norm512(sum, ref m, ref s, d + 48, q3, scaleV);
            var shorts0 = Vector512.Narrow(Vector512.ConvertToInt32(q0), Vector512.ConvertToInt32(q1));
            var shorts1 = Vector512.Narrow(Vector512.ConvertToInt32(q2), Vector512.ConvertToInt32(q3));
            Vector512.Narrow(shorts0, shorts1).StoreUnsafe(ref c, (nuint)d);
        }
        for (int lane = 0; lane < 8; lane++) acc[lane] = sum.GetElement(lane);
        return d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Quantize512(ref float v, ref float m, ref float i, int d, Vector512<float> inv, Vector512<float> lo, Vector512<float> hi)
    {
        var x = (Vector512.LoadUnsafe(ref v, (nuint)d) * inv - Vector512.LoadUnsafe(ref m, (nuint)d)) * Vector512.LoadUnsafe(ref i, (nuint)d);
        return Vector512.Min(Vector512.Max(Vector512.Round(x), lo), hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Norm512(Vector512<double> sum, ref float m, ref float s, int d, Vector512<float> q, Vector512<float> scale)
    {
        var r = (Vector512.LoadUnsafe(ref m, (nuint)d) + Vector512.LoadUnsafe(ref s, (nuint)d) * q) * scale;
        var (a, b) = Vector512.Widen(r); // dimensions d … d+7, then d+8 … d+15: both map onto lanes 0 … 7
        sum += a * a;
        return sum + b * b;
    }

    private static int Encode256(ref float v, ref float m, ref float s, ref float i, ref sbyte c, int n, float inv, float scale, Span<double> acc)
    {
        var invV = Vector256.Create(inv);
        var scaleV = Vector256.Create(scale);
        var lo = Vector256.Create(-Limit);
        var hi = Vector256.Create(Limit);
        Vector256<double> sum0 = Vector256<double>.Zero, sum1 = Vector256<double>.Zero; // dimensions mod 8 in 0 … 3, 4 … 7
        int d = 0;
        for (; d <= n - 32; d += 32)
        {
            var q0 = Quantize256(ref v, ref m, ref i, d, invV, lo, hi);
            var q1 = Quantize256(ref v, ref m, ref i, d + 8, invV, lo, hi);
            var q2 = Quantize256(ref v, ref m, ref i, d + 16, invV, lo, hi);
            var q3 = Quantize256(ref v, ref m, ref i, d + 24, invV, lo, hi);
            Norm256(ref sum0, ref sum1, ref m, ref s, d, q0, scaleV);
            Norm256(ref sum0, ref sum1, ref m, ref s, d + 8, q1, scaleV);
            Norm256(ref sum0, ref sum1, ref m, ref s, d + 16, q2, scaleV);
            Norm256(ref sum0, ref sum1, ref m, ref s, d + 24, q3, scaleV);
            var shorts0 = Vector256.Narrow(Vector256.ConvertToInt32(q0), Vector256.ConvertToInt32(q1));
            var shorts1 = Vector256.Narrow(Vector256.ConvertToInt32(q2), Vector256.ConvertToInt32(q3));
            Vector256.Narrow(shorts0, shorts1).StoreUnsafe(ref c, (nuint)d);
        }
        for (int lane = 0; lane < 4; lane++)
        {
            acc[lane] = sum0.GetElement(lane);
            acc[lane + 4] = sum1.GetElement(lane);
        }
        return d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Quantize256(ref float v, ref float m, ref float i, int d, Vector256<float> inv, Vector256<float> lo, Vector256<float> hi)
    {
        var x = (Vector256.LoadUnsafe(ref v, (nuint)d) * inv - Vector256.LoadUnsafe(ref m, (nuint)d)) * Vector256.LoadUnsafe(ref i, (nuint)d);
        return Vector256.Min(Vector256.Max(Vector256.Round(x), lo), hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Norm256(ref Vector256<double> sum0, ref Vector256<double> sum1, ref float m, ref float s, int d, Vector256<float> q, Vector256<float> scale)
    {
        var r = (Vector256.LoadUnsafe(ref m, (nuint)d) + Vector256.LoadUnsafe(ref s, (nuint)d) * q) * scale;
        var (a, b) = Vector256.Widen(r);
        sum0 += a * a;
        sum1 += b * b;
    }

    private static int Encode128(ref float v, ref float m, ref float s, ref float i, ref sbyte c, int n, float inv, float scale, Span<double> acc)
    {
        var invV = Vector128.Create(inv);
        var scaleV = Vector128.Create(scale);
        var lo = Vector128.Create(-Limit);
        var hi = Vector128.Create(Limit);
        // Dimensions mod 8 in 0 … 1, 2 … 3, 4 … 5, 6 … 7.
        Vector128<double> sum0 = Vector128<double>.Zero, sum1 = Vector128<double>.Zero, sum2 = Vector128<double>.Zero, sum3 = Vector128<double>.Zero;
        int d = 0;
        for (; d <= n - 16; d += 16)
        {
            var q0 = Quantize128(ref v, ref m, ref i, d, invV, lo, hi);
            var q1 = Quantize128(ref v, ref m, ref i, d + 4, invV, lo, hi);
            var q2 = Quantize128(ref v, ref m, ref i, d + 8, invV, lo, hi);
            var q3 = Quantize128(ref v, ref m, ref i, d + 12, invV, lo, hi);
            Norm128(ref sum0, ref sum1, ref m, ref s, d, q0, scaleV);
            Norm128(ref sum2, ref sum3, ref m, ref s, d + 4, q1, scaleV);
            Norm128(ref sum0, ref sum1, ref m, ref s, d + 8, q2, scaleV);
            Norm128(ref sum2, ref sum3, ref m, ref s, d + 12, q3, scaleV);
            var shorts0 = Vector128.Narrow(Vector128.ConvertToInt32(q0), Vector128.ConvertToInt32(q1));
            var shorts1 = Vector128.Narrow(Vector128.ConvertToInt32(q2), Vector128.ConvertToInt32(q3));
            Vector128.Narrow(shorts0, shorts1).StoreUnsafe(ref c, (nuint)d);
        }
        for (int lane = 0; lane < 2; lane++)
        {
            acc[lane] = sum0.GetElement(lane);
            acc[lane + 2] = sum1.GetElement(lane);
            acc[lane + 4] = sum2.GetElement(lane);
            acc[lane + 6] = sum3.GetElement(lane);
        }
        return d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Quantize128(ref float v, ref float m, ref float i, int d, Vector128<float> inv, Vector128<float> lo, Vector128<float> hi)
    {
        var x = (Vector128.LoadUnsafe(ref v, (nuint)d) * inv - Vector128.LoadUnsafe(ref m, (nuint)d)) * Vector128.LoadUnsafe(ref i, (nuint)d);
        return Vector128.Min(Vector128.Max(Vector128.Round(x), lo), hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Norm128(ref Vector128<double> sum0, ref Vector128<double> sum1, ref float m, ref float s, int d, Vector128<float> q, Vector128<float> scale)
    {
        var r = (Vector128.LoadUnsafe(ref m, (nuint)d) + Vector128.LoadUnsafe(ref s, (nuint)d) * q) * scale;
        var (a, b) = Vector128.Widen(r);
        sum0 += a * a;
        sum1 += b * b;
    }
}
