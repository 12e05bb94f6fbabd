using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VectorStore.Distance;

/// <summary>
/// The 8-bit product-quantization scan: for each of <c>count</c> contiguous M-byte codes, the sum of its M entries of
/// an M × 256 float distance table (asymmetric distance computation). Stateless and thread-safe.
/// </summary>
/// <remarks>
/// The scan is bound by table loads (M per code). Two implementations: an interleaved loop that scores four
/// codes at once with independent accumulators and reads each code 8 bytes at a time (bit-identical to
/// <see cref="ComputeScalar"/>: same order per code), and a gather path (AVX2; .NET exposes no 512-bit gather) that widens 8 code bytes to indices and gathers their
/// table entries in one instruction. The gather path reorders the additions, so it matches the reference within
/// float rounding: |simd − ref| ≤ 1e-5 · Σ|entries| (see the kernel tests). The benchmark suite measures both against the reference.
/// </remarks>
public static unsafe class PqScan
{
    /// <summary>Table entries per sub-quantizer.</summary>
    public const int TableWidth = 256;

    /// <summary>
    /// Scores <c>distances.Length</c> codes of <paramref name="m"/> bytes each; bit-identical to
    /// <see cref="ComputeScalar"/>.
    /// </summary>
    public static void Compute(ReadOnlySpan<byte> codes, int m, ReadOnlySpan<float> table, Span<float> distances)
    {
        // The gather path loses to the interleaved loads on the machines measured (see PqScanBenchmarks), so the scan
        // uses the interleaved loop; ComputeGather stays for CPUs with fast gathers and for the benchmark.
        ComputeInterleaved(codes, m, table, distances);
    }

    /// <summary>Whether a gather path exists on this machine for <paramref name="m"/> sub-quantizers.</summary>
    public static bool GatherAccelerated(int m) => Avx2.IsSupported && m >= 8;

    private static void Check(ReadOnlySpan<byte> codes, int m, ReadOnlySpan<float> table, Span<float> distances)
    {
        if (m <= 0) throw new ArgumentOutOfRangeException(nameof(m));
        if (table.Length < m * TableWidth) throw new ArgumentException($"table has {table.Length} entries, needs {m * TableWidth}");
        if (codes.Length < (long)distances.Length * m) throw new ArgumentException($"codes hold {codes.Length} bytes, need {(long)distances.Length * m}");
    }

    /// <summary>The reference: one code at a time, entries added in sub-quantizer order.</summary>
    public static void ComputeScalar(ReadOnlySpan<byte> codes, int m, ReadOnlySpan<float> table, Span<float> distances)
    {
        Check(codes, m, table, distances);
        for (int i = 0; i < distances.Length; i++)
        {
            float s = 0;
            for (int j = 0; j < m; j++) s += table[j * TableWidth + codes[i * m + j]];
            distances[i] = s;
        }
    }

    /// <summary>Four codes per step with independent accumulators; bit-identical to <see cref="ComputeScalar"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ComputeInterleaved(ReadOnlySpan<byte> codes, int m, ReadOnlySpan<float> table, Span<float> distances)
    {
        Check(codes, m, table, distances);
        int n = distances.Length, i = 0;
        fixed (byte* c = codes)
        fixed (float* t = table)
        fixed (float* d = distances)
        {
            int full = m & ~7;
            for (; i <= n - 4; i += 4)
            {
                byte* c0 = c + (nint)i * m, c1 = c0 + m, c2 = c1 + m, c3 = c2 + m;
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                float* tj = t;
                int j = 0;
                for (; j < full; j += 8)
                {
                    // One 8-byte load per code and shifts instead of eight byte loads: the scan is load-bound.
                    ulong w0 = Unsafe.ReadUnaligned<ulong>(c0 + j), w1 = Unsafe.ReadUnaligned<ulong>(c1 + j);
                    ulong w2 = Unsafe.ReadUnaligned<ulong>(c2 + j), w3 = Unsafe.ReadUnaligned<ulong>(c3 + j);
                    for (int b = 0; b < 8; b++, tj += TableWidth)
                    {
                        s0 += tj[(int)(w0 & 0xFF)];
                        s1 += tj[(int)(w1 & 0xFF)];
                        s2 += tj[(int)(w2 & 0xFF)];
                        s3 += tj[(int)(w3 & 0xFF)];
                        w0 >>= 8;
                        w1 >>= 8;
                        w2 >>= 8;
                        w3 >>= 8;
                    }
                }
                for (; j < m; j++, tj += TableWidth)
                {
                    s0 += tj[c0[j]];
                    s1 += tj[c1[j]];
                    s2 += tj[c2[j]];
                    s3 += tj[c3[j]];
                }
                d[i] = s0;
                d[i + 1] = s1;
                d[i + 2] = s2;
                d[i + 3] = s3;
            }
            for (; i < n; i++)
            {
                byte* ci = c + (nint)i * m;
                float s = 0;
                for (int j = 0; j < m; j++) s += t[j * TableWidth + ci[j]];
                d[i] = s;
            }
        }
    }

    /// <summary>The gather path (AVX2, else <see cref="ComputeInterleaved"/>).</summary>
    public static void ComputeGather(ReadOnlySpan<byte> codes, int m, ReadOnlySpan<float> table, Span<float> distances)
    {
        Check(codes, m, table, distances);
        if (Avx2.IsSupported && m >= 8) Gather256(codes, m, table, distances);
        else ComputeInterleaved(codes, m, table, distances);
    }

    private static void Gather256(ReadOnlySpan<byte> codes, int m, ReadOnlySpan<float> table, Span<float> distances)
    {
        var laneOffsets = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * TableWidth;
        int full = m & ~7;
        fixed (byte* c = codes)
        fixed (float* t = table)
        {
            for (int i = 0; i < distances.Length; i++)
            {
                byte* ci = c + (nint)i * m;
                var acc = Vector256<float>.Zero;
                for (int j = 0; j < full; j += 8)
                {
                    var idx = Avx2.ConvertToVector256Int32(ci + j) + laneOffsets;
                    acc += Avx2.GatherVector256(t + j * TableWidth, idx, 4);
                }
                float s = Vector256.Sum(acc);
                for (int j = full; j < m; j++) s += t[j * TableWidth + ci[j]];
                distances[i] = s;
            }
        }
    }
}
