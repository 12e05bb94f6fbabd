using VectorStore.Distance;
using VectorStore.Quantization;
using Xunit;

namespace VectorStore.Tests.Distance;

/// <summary>
/// The 4-bit lookup-table quantizer: every path must give the same bytes, bias and scale as the scalar reference,
/// bit for bit, because per-vector and block scoring share the table. CI re-runs this class with AVX-512, AVX2 and all
/// intrinsics disabled.
/// </summary>
public class PqLutQuantizerKernelTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(8)]
    [InlineData(96)]
    [InlineData(98)]
    [InlineData(256)]
    public void EveryPathEqualsScalarExactly(int m)
    {
        var rng = new Random(m);
        for (int rep = 0; rep < 20; rep++)
        {
            var table = new float[m * 16];
            float shift = rep % 3 == 0 ? -1000 : 0;
            float spread = rep % 4 == 0 ? 1e-3f : 7;
            for (int i = 0; i < table.Length; i++) table[i] = (float)(rng.NextDouble() * spread) + shift;
            // Some sub-quantizers with a zero range, and repeated values, as real tables have; signed zeros as minima.
            if (m > 2) Array.Fill(table, 3.25f, 16, 16);
            if (m > 4) { table[48] = -0f; table[64] = 0f; }
            AssertSame(table, m);
        }
    }

    [Fact]
    public void ScaledHalvesRoundToEven()
    {
        // Sub-quantizer 0 spans exactly 0..255, so scale = 1 and every other entry lands on its own value.
        var table = new float[3 * 16];
        table[15] = 255;
        float[] halves = [0.5f, 1.5f, 2.5f, 3.5f, 4.5f, 253.5f, 254.5f, 127.5f, 128.5f, 0.25f, 0.75f, 10f, 200.49f, 200.51f, 0, 0];
        halves.CopyTo(table, 16);
        byte[] expected = [0, 2, 2, 4, 4, 254, 254, 128, 128, 0, 1, 10, 200, 201, 0, 0];
        for (int c = 0; c < 16; c++) table[32 + c] = 100 + c;
        var lut = new byte[3 * 16];
        foreach (var quantize in new Func<byte[], (float Scale, float Bias)>[]
                 {
                     l => (PqLutQuantizer.Quantize(table, 3, l, out float b), b),
                     l => (PqLutQuantizer.QuantizeScalar(table, 3, l, out float b), b),
                 })
        {
            var (scale, bias) = quantize(lut);
            Assert.Equal(1f, scale);
            Assert.Equal(100f, bias);
            Assert.Equal(expected, lut.AsSpan(16, 16).ToArray());
            Assert.Equal(255, lut[15]);
            for (int c = 0; c < 16; c++) Assert.Equal(c, lut[32 + c]);
        }
    }

    [Fact]
    public void ConstantTableGivesZeroLutAndUnitScale()
    {
        var table = Enumerable.Repeat(-2.5f, 4 * 16).ToArray();
        var lut = new byte[4 * 16];
        Array.Fill(lut, (byte)9);
        float scale = PqLutQuantizer.Quantize(table, 4, lut, out float bias);
        Assert.Equal(1f, scale);
        Assert.Equal(-10f, bias);
        Assert.All(lut, b => Assert.Equal(0, b));
    }

    [Fact]
    public void ShortSpansAreRejected()
    {
        Assert.Throws<ArgumentException>(() => PqLutQuantizer.Quantize(new float[31], 2, new byte[32], out _));
        Assert.Throws<ArgumentException>(() => PqLutQuantizer.Quantize(new float[32], 2, new byte[31], out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => PqLutQuantizer.Quantize(new float[32], 0, new byte[32], out _));
    }

    [Theory]
    [InlineData(30, 8, DistanceKind.L2)]
    [InlineData(30, 10, DistanceKind.NegativeDot)]
    [InlineData(384, 96, DistanceKind.NegativeDot)]
    [InlineData(384, 96, DistanceKind.L2)]
    public void ScorerTableStaysWithinOneStepOfTheFormerDefinition(int dimension, int m, DistanceKind kind)
    {
        // The former SetQuery: one SquaredL2/DotProduct call per centroid, then the scalar quantization. The new float
        // table may differ in the last bits (another summation order), so a byte may move by one step at a rounding
        // boundary, never more; bias and scale stay within float rounding.
        var rng = new Random(dimension + m);
        var offsets = new int[m + 1];
        for (int i = 0; i < m; i++) offsets[i + 1] = offsets[i] + dimension / m + (i < dimension % m ? 1 : 0);
        var centroids = new float[m][];
        for (int s = 0; s < m; s++)
        {
            centroids[s] = new float[16 * (offsets[s + 1] - offsets[s])];
            for (int i = 0; i < centroids[s].Length; i++) centroids[s][i] = (float)(rng.NextDouble() * 2 - 1);
        }
        var codec = new PqFastScanCodec(new PqCodebook(dimension, m, 4, centroids));
        var scorer = (PqFastScanScorer)codec.CreateScorer(kind);
        int moved = 0;
        for (int rep = 0; rep < 5; rep++)
        {
            var q = new float[dimension];
            for (int i = 0; i < dimension; i++) q[i] = (float)(rng.NextDouble() * 2 - 1);
            scorer.SetQuery(q);
            var table = new float[m * 16];
            for (int s = 0; s < m; s++)
            {
                int sd = offsets[s + 1] - offsets[s];
                for (int j = 0; j < 16; j++)
                {
                    var cj = centroids[s].AsSpan(j * sd, sd);
                    var qs = q.AsSpan(offsets[s], sd);
                    table[s * 16 + j] = kind == DistanceKind.L2 ? SquaredL2.Compute(qs, cj) : -DotProduct.Compute(qs, cj);
                }
            }
            var former = new byte[m * 16];
            float scale = PqLutQuantizer.QuantizeScalar(table, m, former, out float bias);
            Assert.True(Math.Abs(scale - scorer.Scale) <= 1e-4f * scale, $"scale {scorer.Scale} vs {scale}");
            Assert.True(Math.Abs(bias - scorer.Bias) <= 1e-4f * (1 + Math.Abs(bias)), $"bias {scorer.Bias} vs {bias}");
            for (int i = 0; i < former.Length; i++)
            {
                int diff = Math.Abs(former[i] - scorer.LookupTable[i]);
                Assert.True(diff <= 1, $"entry {i}: {scorer.LookupTable[i]} vs {former[i]}");
                moved += diff;
            }
        }
        // A byte moves only when a float entry sits within rounding error of a half step: rare.
        Assert.True(moved <= 5 * m * 16 / 100, $"{moved} of {5 * m * 16} bytes moved");
    }

    private static void AssertSame(float[] table, int m)
    {
        var expected = new byte[m * 16];
        var actual = new byte[m * 16];
        float es = PqLutQuantizer.QuantizeScalar(table, m, expected, out float eb);
        float s = PqLutQuantizer.Quantize(table, m, actual, out float b);
        Assert.Equal(BitConverter.SingleToInt32Bits(es), BitConverter.SingleToInt32Bits(s));
        Assert.True(eb == b, $"bias {b} vs {eb}"); // −0 and +0 are the same bias (see PqLutQuantizer remarks)
        Assert.Equal(expected, actual);
    }
}
