using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Quantization;
using Xunit;

namespace VectorStore.Tests.Quantization;

public class ScalarQuantizerTests
{
    private static readonly VectorMatrix s_data = SyntheticData.Clustered(3000, 96, seed: 5);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReconstructionErrorIsSmall(bool perVector)
    {
        var sq = ScalarQuantizer.Train(s_data, new ScalarQuantizerOptions { PerVectorScale = perVector });
        var err = ReconstructionError.Measure(sq, s_data);
        // 8 bits over a clipped range: relative squared error well under 0.1 %.
        Assert.True(err.RelativeError < 1e-3, $"relative error {err.RelativeError}");
        Assert.Equal(96 + (perVector ? 8 : 4), sq.CodeSize);
    }

    [Theory]
    [InlineData(DistanceKind.L2, false)]
    [InlineData(DistanceKind.NegativeDot, false)]
    [InlineData(DistanceKind.L2, true)]
    [InlineData(DistanceKind.NegativeDot, true)]
    public void ScorerEqualsExactDistanceToReconstruction(DistanceKind kind, bool perVector)
    {
        var sq = ScalarQuantizer.Train(s_data, new ScalarQuantizerOptions { PerVectorScale = perVector });
        var scorer = sq.CreateScorer(kind);
        var code = new byte[sq.CodeSize];
        var recon = new float[96];
        var q = s_data.Row(17).ToArray();
        scorer.SetQuery(q);
        for (int i = 0; i < 200; i++)
        {
            sq.Encode(s_data.Row(i), code);
            sq.Decode(code, recon);
            float expected = VectorStore.Distance.Distances.Compute(kind, q, recon);
            float actual = scorer.Distance(code);
            Assert.True(Math.Abs(expected - actual) <= 1e-3f * Math.Max(1, Math.Abs(expected)), $"row {i}: {expected} vs {actual}");
            Assert.True(Math.Abs(sq.CodeDistance(code, code, kind) - VectorStore.Distance.Distances.Compute(kind, recon, recon)) <= 1e-3f * Math.Max(1, Math.Abs(expected)));
        }
    }

    [Fact]
    public void ClippingKeepsOutliersFromStretchingTheRange()
    {
        var data = SyntheticData.Clustered(2000, 16, seed: 9);
        data[0][3] = 1e6f; // one wild value
        var sq = ScalarQuantizer.Train(data);
        var err = ReconstructionError.Measure(sq, data.Slice(1, 1999));
        Assert.True(err.RelativeError < 1e-3, $"an outlier ruined the range: {err.RelativeError}");
    }

    [Fact]
    public void SerializedCodecProducesIdenticalCodes()
    {
        var sq = ScalarQuantizer.Train(s_data, new ScalarQuantizerOptions { PerVectorScale = true });
        var ms = new MemoryStream();
        CodecRegistry.Write(sq, new BinaryWriter(ms));
        ms.Position = 0;
        var back = CodecRegistry.Read(new BinaryReader(ms));
        Assert.Equal(sq.Spec, back.Spec);
        var a = new byte[sq.CodeSize];
        var b = new byte[sq.CodeSize];
        for (int i = 0; i < 100; i++)
        {
            sq.Encode(s_data.Row(i), a);
            back.Encode(s_data.Row(i), b);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void UnknownSq8ArgumentIsRejected() =>
        Assert.Throws<InvalidArgumentException>(() => CodecRegistry.Train(CompressionSpec.Parse("sq8:zz"), s_data, DistanceKind.L2));

    [SkippableTheory]
    [InlineData(0, 0.97)]
    [InlineData(40, 0.995)]
    public void RecallOnRealTextEmbeddings(int rerank, double floor)
    {
        var ds = TestData.RequireShared(TestData.TextSet);
        var runner = EvalRunner.Build(ds.Base, new EvalSettings { Metric = Metric.Cosine, Compression = "sq8", Rerank = rerank, MinSeconds = 0 });
        var m = runner.Measure(ds.Queries, ds.Truth, new SweepPoint("none", 0));
        Assert.True(m.Recall >= floor, $"sq8 rerank {rerank}: recall@10 {m.Recall} < {floor}");
        Assert.True(runner.BytesPerVector <= ds.Base.Dimension + 8, $"{runner.BytesPerVector} bytes/vector");
    }
}
