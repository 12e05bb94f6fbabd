using VectorStore.Distance;
using VectorStore.Quantization;
using Xunit;

namespace VectorStore.Tests.Distance;

/// <summary>
/// <see cref="Sq8Encode"/> against its scalar reference: the same code bytes and the same norm bit for bit, on
/// lengths that exercise each vector width and every tail, with values inside the range, clipped at both ends, on
/// rounding ties, and with a zero step. CI runs this class again with AVX-512, AVX2 and all hardware intrinsics
/// disabled, and on Arm64 under emulation, so each path is checked.
/// </summary>
public class Sq8EncodeKernelTests
{
    public static IEnumerable<object[]> Lengths() =>
        new[] { 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 384, 768, 1000, 1536 }.Select(n => new object[] { n });

    private static (float[] Mid, float[] Step, float[] InvStep) Ranges(Random rng, int n, bool zeroSteps)
    {
        var mid = new float[n];
        var step = new float[n];
        var invStep = new float[n];
        for (int d = 0; d < n; d++)
        {
            mid[d] = (float)(rng.NextDouble() * 2 - 1);
            step[d] = zeroSteps && d % 5 == 0 ? 0f : (float)(rng.NextDouble() * 0.02 + 1e-4);
            invStep[d] = step[d] > 0 ? 1f / step[d] : 0f;
        }
        return (mid, step, invStep);
    }

    private static void AssertSame(float[] v, float inv, float scale, float[] mid, float[] step, float[] invStep)
    {
        int n = v.Length;
        var expected = new sbyte[n];
        var actual = new sbyte[n];
        double norm = Sq8Encode.EncodeScalar(v, inv, scale, mid, step, invStep, expected);
        double got = Sq8Encode.Encode(v, inv, scale, mid, step, invStep, actual);
        Assert.Equal(expected, actual);
        Assert.Equal(BitConverter.DoubleToInt64Bits(norm), BitConverter.DoubleToInt64Bits(got));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void MatchesScalarBitForBit(int n)
    {
        var rng = new Random(n);
        for (int rep = 0; rep < 20; rep++)
        {
            var (mid, step, invStep) = Ranges(rng, n, zeroSteps: rep % 4 == 3);
            var v = new float[n];
            // Mostly inside the range, some far outside on either side (clipped to ±127).
            for (int d = 0; d < n; d++) v[d] = mid[d] + (float)(rng.NextDouble() * 2 - 1) * step[d] * (rep % 3 == 0 ? 400 : 120);
            float scale = rep % 2 == 0 ? 1f : (float)(rng.NextDouble() * 5 + 0.1);
            AssertSame(v, 1f / scale, scale, mid, step, invStep);
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void RoundsTiesToEvenOnEveryPath(int n)
    {
        // mid 0, step 1: the code is round(v), so halves test the tie rule (2.5 → 2, −3.5 → −4, 0.5 → 0, −0.5 → −0).
        var mid = new float[n];
        var step = Enumerable.Repeat(1f, n).ToArray();
        var v = new float[n];
        for (int d = 0; d < n; d++) v[d] = (d % 9 - 4) + 0.5f;
        AssertSame(v, 1f, 1f, mid, step, step);
        var codes = new sbyte[n];
        Sq8Encode.Encode(v, 1f, 1f, mid, step, step, codes);
        for (int d = 0; d < n; d++) Assert.Equal((sbyte)MathF.Round(v[d]), codes[d]);
    }

    [Fact]
    public void ScalarQuantizerCodesAreTheReferenceEncoding()
    {
        var rng = new Random(7);
        var sample = new VectorMatrix(2000, 384);
        for (int i = 0; i < sample.Data.Length; i++) sample.Data[i] = (float)(rng.NextDouble() * 2 - 1);
        foreach (bool perVector in new[] { false, true })
        {
            var sq = ScalarQuantizer.Train(sample, new ScalarQuantizerOptions { PerVectorScale = perVector });
            var code = new byte[sq.CodeSize];
            var row = sample.Row(17);
            sq.Encode(row, code);
            var step = sq.Step.ToArray();
            var invStep = step.Select(s => s > 0 ? 1f / s : 0f).ToArray();
            float scale = perVector ? MathF.Sqrt(DotProduct.Compute(row, row)) : 1f;
            var expected = new sbyte[384];
            double norm = Sq8Encode.EncodeScalar(row, 1f / scale, scale, sq.Mid, step, invStep, expected);
            Assert.Equal(expected, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(code.AsSpan(0, 384)).ToArray());
            Assert.Equal((float)norm, BitConverter.ToSingle(code, 384));
        }
    }

    [Fact]
    public void MismatchedLengthsAreRefused()
    {
        var a = new float[8];
        Assert.Throws<ArgumentException>(() => Sq8Encode.Encode(a, 1, 1, a, a, new float[7], new sbyte[8]));
        Assert.Throws<ArgumentException>(() => Sq8Encode.EncodeScalar(a, 1, 1, a, a, a, new sbyte[9]));
    }
}
