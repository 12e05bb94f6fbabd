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

    private static (float[] Errors, float[] Bounds, float Spread) Errors(int bits, DistanceKind kind, int dim, int centroids = 1)
    {
        var data = SyntheticData.Clustered(1_200, dim, seed: dim + bits, normalize: kind == DistanceKind.NegativeDot);
        var rq = RotationQuantizer.Train(data.Slice(0, 1_000), bits, seed: 5, centroids, null);
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
    [InlineData(1, DistanceKind.L2, 64, 16)]
    [InlineData(2, DistanceKind.L2, 128, 32)]
    [InlineData(4, DistanceKind.NegativeDot, 384, 24)]
    [InlineData(3, DistanceKind.NegativeDot, 100, 300)]
    public void EstimateIsUnbiasedAndTheBoundHolds(int bits, DistanceKind kind, int dim, int centroids = 1)
    {
        var (errors, bounds, _) = Errors(bits, kind, dim, centroids);
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
    [InlineData(DistanceKind.L2, 1)]
    [InlineData(DistanceKind.NegativeDot, 1)]
    [InlineData(DistanceKind.L2, 12)]
    [InlineData(DistanceKind.NegativeDot, 12)]
    public void QueryFromCodeMatchesDecodedQuery(DistanceKind kind, int centroids)
    {
        var data = SyntheticData.Clustered(300, 48, seed: 3, normalize: kind == DistanceKind.NegativeDot);
        var rq = RotationQuantizer.Train(data, 4, seed: 1, centroids, null);
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

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    public void DecodeApproachesTheVectorAsBitsGrow(int centroids)
    {
        var data = SyntheticData.Clustered(200, 64, seed: 9);
        var back = new float[64];
        double previous = double.MaxValue;
        foreach (int bits in new[] { 1, 4, 8 })
        {
            var rq = RotationQuantizer.Train(data, bits, seed: 2, centroids, null);
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
        var data = SyntheticData.Clustered(600, 384, seed: 1);
        Assert.Equal(bytes, RotationQuantizer.Train(data, bits, 1).CodeSize);
        // With centroids: + f32 shift + u8 centroid number (u16 above 256 centroids).
        Assert.Equal(bytes + 5, RotationQuantizer.Train(data, bits, 1, 4, null).CodeSize);
        Assert.Equal(bytes + 6, RotationQuantizer.Train(data, bits, 1, 300, null).CodeSize);
    }

    [Theory]
    [InlineData(390, 10)]
    [InlineData(20, 1)]
    [InlineData(1_000_000, 256)]
    public void DefaultCentroidsFollowTheTrainingSample(int vectors, int expected)
    {
        Assert.Equal(expected, RotationQuantizer.DefaultCentroids(vectors));
        if (vectors > 10_000) return;
        var codec = (RotationQuantizer)CodecRegistry.Train(CompressionSpec.Parse("rq:4"), SyntheticData.Clustered(vectors, 16, seed: 1), DistanceKind.L2);
        Assert.Equal(expected, codec.CentroidCount);
        Assert.Equal(expected == 1 ? "rq:4" : $"rq:4,{expected}", codec.Spec);
    }

    [Fact]
    public void MoreCentroidsThanTrainingVectorsAreCappedAtTheSample()
    {
        var rq = RotationQuantizer.Train(SyntheticData.Clustered(7, 16, seed: 1), 4, 1, 64, null);
        Assert.Equal(7, rq.CentroidCount);
    }

    [Fact]
    public void CentroidsShrinkTheEstimatorsError()
    {
        // The clustered data has 20 clusters: measuring from the nearest centroid instead of the mean shrinks ‖r‖.
        var single = Errors(2, DistanceKind.L2, 128);
        var many = Errors(2, DistanceKind.L2, 128, 32);
        double Rms(float[] e) => Math.Sqrt(e.Average(x => (double)x * x));
        Assert.True(Rms(many.Errors) < 0.8 * Rms(single.Errors), $"error rms {Rms(many.Errors)} with 32 centroids vs {Rms(single.Errors)} with one");
    }

    [Fact]
    public void CentroidParametersRoundTripAndFormatOneStaysTheSame()
    {
        var data = SyntheticData.Clustered(400, 24, seed: 4);
        var rq = RotationQuantizer.Train(data, 3, 2, 9, null);
        var bytes = Write(rq);
        var back = (RotationQuantizer)CodecRegistry.Read(new BinaryReader(new MemoryStream(bytes)));
        Assert.Equal(bytes, Write(back));
        var a = new byte[rq.CodeSize];
        var b = new byte[rq.CodeSize];
        for (int i = 0; i < 50; i++)
        {
            rq.Encode(data.Row(i), a);
            back.Encode(data.Row(i), b);
            Assert.Equal(a, b);
        }
        // One centre keeps format 1: B first, no marker, no centroid table.
        var single = Write(RotationQuantizer.Train(data, 3, 2));
        Assert.Equal(3, single[3]);
        Assert.Equal(3 + 1 + 4 + 4 * 24 + 4 * 24 * 24, single.Length);
    }

    [Fact]
    public void ACodeNamingAMissingCentroidScoresAsFarthestAndDecodeRefusesIt()
    {
        var data = SyntheticData.Clustered(200, 16, seed: 4);
        var rq = RotationQuantizer.Train(data, 4, 2, 5, null);
        var code = new byte[rq.CodeSize];
        rq.Encode(data.Row(0), code);
        code[^1] = 200; // the centroid number
        var scorer = rq.CreateScorer(DistanceKind.L2);
        scorer.SetQuery(data.Row(1));
        Assert.Equal(float.PositiveInfinity, scorer.Distance(code));
        Assert.Throws<InvalidDataException>(() => rq.Decode(code, new float[16]));
        Assert.Throws<InvalidDataException>(() => scorer.SetQueryFromCode(code));
    }

    [Theory]
    [InlineData("rq", 384)]
    [InlineData("rq:0", 384)]
    [InlineData("rq:9", 384)]
    [InlineData("rq:x", 384)]
    [InlineData("rq:+4", 384)]
    [InlineData("rq:4", 5_000)]
    [InlineData("rq:4,0", 384)]
    [InlineData("rq:4,4097", 384)]
    [InlineData("rq:4,x", 384)]
    [InlineData("rq:4,2,3", 384)]
    [InlineData("rq:4,", 384)]
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
        var withCentroids = Write(RotationQuantizer.Train(SyntheticData.Clustered(50, 8, seed: 1), 4, 1, 3, null));
        withCentroids[4] = 9; // after the format-2 marker: B
        Assert.Throws<InvalidDataException>(() => CodecRegistry.Read(new BinaryReader(new MemoryStream(withCentroids))));
        withCentroids[4] = 4;
        withCentroids[9] = 1; // the centroid count (i32 after B and n): 1 is format 1's, never written as format 2
        for (int i = 10; i < 13; i++) withCentroids[i] = 0;
        Assert.Throws<InvalidDataException>(() => CodecRegistry.Read(new BinaryReader(new MemoryStream(withCentroids))));
    }

    [Fact]
    public void BoundSigmasMustBePositive()
    {
        var scorer = (RotationScorer)RotationQuantizer.Train(SyntheticData.Clustered(50, 8, seed: 1), 4, 1).CreateScorer(DistanceKind.L2);
        Assert.Throws<InvalidArgumentException>(() => scorer.BoundSigmas = 0);
        Assert.Throws<InvalidArgumentException>(() => scorer.BoundSigmas = float.NaN);
    }
}
