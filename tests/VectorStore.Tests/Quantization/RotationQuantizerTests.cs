using VectorStore.Distance;
using VectorStore.Evaluation;
using VectorStore.Quantization;
using Xunit;

namespace VectorStore.Tests.Quantization;

/// <summary>
/// <c>rq:B</c>: the grid choice, the estimator and its bound, code-vs-code queries, code sizes, validation. The
/// byte-for-byte registry round trip is in <see cref="ToolkitCodecTests"/> with every other spec.
/// </summary>
public class RotationQuantizerTests
{
    private static float Exact(DistanceKind kind, ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        kind == DistanceKind.L2 ? SquaredL2.Compute(a, b) : -DotProduct.Compute(a, b);

    private static (float[] Errors, float[] Bounds, float Spread) Errors(int bits, DistanceKind kind, int dim)
    {
        var data = SyntheticData.Clustered(1_200, dim, seed: dim + bits, normalize: kind == DistanceKind.NegativeDot);
        var rq = RotationQuantizer.Train(data.Slice(0, 1_000), bits, seed: 5);
        var codes = new byte[1_000 * rq.CodeSize];
        rq.EncodeBatch(data.Slice(0, 1_000), codes, 1);
        var scorer = (RotationScorer)rq.CreateScorer(kind);
        var errors = new List<float>();
        var bounds = new List<float>();
        var exact = new List<float>();
        for (int q = 1_000; q < 1_040; q++)
        {
            scorer.SetQuery(data.Row(q));
            for (int i = 0; i < 1_000; i++)
            {
                var code = codes.AsSpan(i * rq.CodeSize, rq.CodeSize);
                float est = scorer.DistanceWithBound(code, out float bound);
                Assert.Equal(est, scorer.Distance(code));
                float e = Exact(kind, data.Row(q), data.Row(i));
                exact.Add(e);
                errors.Add(est - e);
                bounds.Add(bound);
            }
        }
        return (errors.ToArray(), bounds.ToArray(), exact.Max() - exact.Min());
    }

    [Theory]
    [InlineData(1, DistanceKind.L2, 64)]
    [InlineData(2, DistanceKind.NegativeDot, 100)]
    [InlineData(4, DistanceKind.NegativeDot, 384)]
    [InlineData(5, DistanceKind.L2, 96)]
    [InlineData(8, DistanceKind.L2, 37)]
    public void EstimateIsUnbiasedAndTheBoundHolds(int bits, DistanceKind kind, int dim)
    {
        var (errors, bounds, _) = Errors(bits, kind, dim);
        double mean = errors.Average(e => (double)e);
        double sd = Math.Sqrt(errors.Average(e => (double)e * e) - mean * mean);
        Assert.True(Math.Abs(mean) <= 0.2 * sd, $"rq:{bits} mean error {mean} vs sd {sd}: biased");
        int outside = errors.Where((e, i) => Math.Abs(e) > bounds[i]).Count();
        Assert.True(outside <= errors.Length / 50, $"rq:{bits}: {outside} of {errors.Length} errors outside the 3-sigma bound");
        // The bound is not vacuous: on average it is within a few error standard deviations.
        Assert.True(bounds.Average() <= 8 * sd, $"rq:{bits}: mean bound {bounds.Average()} vs error sd {sd}");
    }

    [Fact]
    public void MoreBitsGiveSmallerErrors()
    {
        double previous = double.MaxValue;
        foreach (int bits in new[] { 1, 2, 3, 4, 5, 6, 7, 8 })
        {
            var (errors, _, spread) = Errors(bits, DistanceKind.L2, 128);
            double rms = Math.Sqrt(errors.Average(e => (double)e * e)) / spread;
            Assert.True(rms < previous, $"rq:{bits} relative rms error {rms} is not below rq:{bits - 1}'s {previous}");
            previous = rms;
        }
        Assert.True(previous < 0.005, $"rq:8 relative rms error {previous}");
    }

    [Theory]
    [InlineData(2, 384)]
    [InlineData(3, 128)]
    [InlineData(4, 384)]
    [InlineData(4, 128)]
    [InlineData(6, 384)]
    [InlineData(8, 128)]
    [InlineData(4, 64)]
    [InlineData(5, 16)]
    public void GridCodeBeatsEveryFixedRescale(int bits, int d)
    {
        var rng = new Random(bits);
        int max = (1 << (bits - 1)) - 1;
        var o = new float[d];
        var u = new byte[d];
        int better = 0;
        for (int rep = 0; rep < 20; rep++)
        {
            double n2 = 0;
            // Gaussian coordinates: what a random rotation makes of any unit vector (the sweep's start assumes them).
            for (int i = 0; i < d; i++)
            {
                o[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
                n2 += o[i] * o[i];
            }
            for (int i = 0; i < d; i++) o[i] /= (float)Math.Sqrt(n2);
            var (ip, normY) = RotationQuantizer.ChooseCode(o, bits, u);
            double chosen = ip / normY;
            Assert.All(u, v => Assert.InRange(v, 0, (1 << bits) - 1));
            double maxO = o.Max(Math.Abs);
            // Every rescale t on a fine grid. Inside the searched range (up to 10 steps past the largest coordinate's
            // saturation) the choice is optimal; beyond it, only a low-dimensional vector with a few dominant
            // coordinates can gain, and by little.
            double tEnd = (max + 10) / maxO, bestBeyond = 0;
            for (double t = 0.01; t <= 2 * tEnd; t += 0.01)
            {
                double cos = CosAt(o, t, max);
                if (t < tEnd) Assert.True(1 - chosen <= (1 - cos) * 1.0001, $"rq:{bits}: t = {t} gives cos {cos} > chosen {chosen} (max|o| {maxO})");
                else bestBeyond = Math.Max(bestBeyond, cos);
            }
            Assert.True(chosen >= bestBeyond - 5e-4, $"rq:{bits}: a rescale past the sweep gives cos {bestBeyond} vs chosen {chosen}");
            // Plain rounding at the fixed full-range scale is never better, and usually worse.
            double plain = CosAt(o, (max + 0.5) / maxO, max);
            Assert.True(chosen >= plain - 1e-9, $"rq:{bits}: plain rounding gives {plain} > chosen {chosen}");
            if (chosen > plain + 1e-9) better++;
        }
        Assert.True(better >= 10, $"rq:{bits}: better than plain rounding on only {better} of 20 vectors");
    }

    private static double CosAt(float[] o, double t, int max)
    {
        double num = 0, den = 0;
        foreach (var x in o)
        {
            double y = Math.Min(Math.Floor(t * Math.Abs(x)), max) + 0.5;
            num += y * Math.Abs(x);
            den += y * y;
        }
        return num / Math.Sqrt(den);
    }

    [Theory]
    [InlineData(DistanceKind.L2)]
    [InlineData(DistanceKind.NegativeDot)]
    public void QueryFromCodeMatchesDecodedQuery(DistanceKind kind)
    {
        var data = SyntheticData.Clustered(300, 48, seed: 3, normalize: kind == DistanceKind.NegativeDot);
        var rq = RotationQuantizer.Train(data, 4, seed: 1);
        var codes = new byte[300 * rq.CodeSize];
        rq.EncodeBatch(data, codes, 1);
        var fromCode = rq.CreateScorer(kind);
        var decodedScorer = rq.CreateScorer(kind);
        var decoded = new float[48];
        for (int q = 0; q < 10; q++)
        {
            var code = codes.AsSpan(q * rq.CodeSize, rq.CodeSize);
            fromCode.SetQueryFromCode(code);
            rq.Decode(code, decoded);
            decodedScorer.SetQuery(decoded);
            for (int i = 0; i < 300; i++)
            {
                var c = codes.AsSpan(i * rq.CodeSize, rq.CodeSize);
                float a = fromCode.Distance(c), b = decodedScorer.Distance(c);
                Assert.True(Math.Abs(a - b) <= 1e-3f * (1 + Math.Abs(b)), $"code {i}: {a} from code vs {b} decoded");
            }
        }
    }

    [Fact]
    public void DecodeApproachesTheVectorAsBitsGrow()
    {
        var data = SyntheticData.Clustered(200, 64, seed: 9);
        var back = new float[64];
        double previous = double.MaxValue;
        foreach (int bits in new[] { 1, 4, 8 })
        {
            var rq = RotationQuantizer.Train(data, bits, seed: 2);
            var code = new byte[rq.CodeSize];
            double err = 0, norm = 0;
            for (int i = 0; i < 200; i++)
            {
                rq.Encode(data.Row(i), code);
                rq.Decode(code, back);
                err += SquaredL2.Compute(data.Row(i), back);
                norm += SquaredL2.Compute(data.Row(i), rq.Center);
            }
            Assert.True(err / norm < previous, $"rq:{bits} relative reconstruction error {err / norm}");
            previous = err / norm;
        }
        Assert.True(previous < 0.001, $"rq:8 relative reconstruction error {previous}");
    }

    private static byte[] Write(VectorCodec codec)
    {
        var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) CodecRegistry.Write(codec, w);
        return ms.ToArray();
    }

    [Theory]
    [InlineData(1, 56)]
    [InlineData(2, 108)]
    [InlineData(3, 156)]
    [InlineData(4, 204)]
    [InlineData(7, 348)]
    [InlineData(8, 396)]
    public void CodeSizesAtTheTextSetDimension(int bits, int bytes)
    {
        var data = SyntheticData.Clustered(20, 384, seed: 1);
        Assert.Equal(bytes, RotationQuantizer.Train(data, bits, 1).CodeSize);
    }

    [Theory]
    [InlineData("rq", 384)]
    [InlineData("rq:0", 384)]
    [InlineData("rq:9", 384)]
    [InlineData("rq:x", 384)]
    [InlineData("rq:+4", 384)]
    [InlineData("rq:4", 5_000)]
    public void BadSpecsAreRefusedAtCreate(string spec, int dim) =>
        Assert.Throws<InvalidArgumentException>(() => CodecRegistry.Validate(CompressionSpec.Parse(spec), dim));

    [Fact]
    public void WideInputsComposeWithPca() => CodecRegistry.Validate(CompressionSpec.Parse("pca:128+rq:4"), 5_000);

    [Fact]
    public void CorruptParametersAreRefused()
    {
        var bytes = Write(RotationQuantizer.Train(SyntheticData.Clustered(50, 8, seed: 1), 4, 1));
        bytes[3] = 9;  // "rq" tag is 3 bytes (length + 2 chars); the next byte is B
        Assert.Throws<InvalidDataException>(() => CodecRegistry.Read(new BinaryReader(new MemoryStream(bytes))));
    }

    [Fact]
    public void BoundSigmasMustBePositive()
    {
        var scorer = (RotationScorer)RotationQuantizer.Train(SyntheticData.Clustered(50, 8, seed: 1), 4, 1).CreateScorer(DistanceKind.L2);
        Assert.Throws<InvalidArgumentException>(() => scorer.BoundSigmas = 0);
        Assert.Throws<InvalidArgumentException>(() => scorer.BoundSigmas = float.NaN);
    }
}
