using System.Runtime.InteropServices;
using VectorStore.Evaluation;
using VectorStore.Quantization;
using Xunit;

namespace VectorStore.Tests.Quantization;

/// <summary>
/// The popcount scoring of <c>bin</c> against its scalar reference, and the estimator's unbiasedness. The class name
/// contains "Kernel" so CI also runs it with hardware intrinsics disabled (software popcount).
/// </summary>
public class BinaryQuantizerKernelTests
{
    [Theory]
    [InlineData(64, DistanceKind.NegativeDot)]
    [InlineData(100, DistanceKind.L2)]
    [InlineData(384, DistanceKind.NegativeDot)]
    public void PopcountScoreMatchesScalarReference(int dim, DistanceKind kind)
    {
        var data = SyntheticData.Clustered(600, dim, seed: dim, normalize: true);
        var bq = BinaryQuantizer.Train(data, rotate: true, seed: 1);
        var scorer = (BinaryQuantizer.BinaryScorer)bq.CreateScorer(kind);
        var code = new byte[bq.CodeSize];
        for (int q = 0; q < 5; q++)
        {
            scorer.SetQuery(data.Row(500 + q));
            for (int i = 0; i < 100; i++)
            {
                bq.Encode(data.Row(i), code);
                var bits = MemoryMarshal.Cast<byte, ulong>(code.AsSpan(0, bq.BitBytes));
                float fast = scorer.SignedDot(bits);
                float reference = scorer.SignedDotReference(bits);
                Assert.True(Math.Abs(fast - reference) <= 1e-3f * (1 + Math.Abs(reference)), $"dim {dim}: popcount {fast} vs reference {reference}");
            }
        }
    }

    [Theory]
    [InlineData(100, DistanceKind.L2)]
    [InlineData(384, DistanceKind.NegativeDot)]
    public void BatchKernelMatchesSingleCodeScoring(int dim, DistanceKind kind)
    {
        var data = SyntheticData.Clustered(300, dim, seed: 2, normalize: true);
        var bq = BinaryQuantizer.Train(data, rotate: true, seed: 4);
        var codes = new byte[200 * bq.CodeSize];
        for (int i = 0; i < 200; i++) bq.Encode(data.Row(i), codes.AsSpan(i * bq.CodeSize, bq.CodeSize));
        var scorer = bq.CreateScorer(kind);
        scorer.SetQuery(data.Row(250));
        var batch = new float[200];
        scorer.DistanceBatch(codes, bq.CodeSize, batch);
        for (int i = 0; i < 200; i++)
        {
            float single = scorer.Distance(codes.AsSpan(i * bq.CodeSize, bq.CodeSize));
            Assert.True(Math.Abs(single - batch[i]) <= 1e-4f * (1 + Math.Abs(single)), $"code {i}: batch {batch[i]} vs single {single}");
        }
    }

    [Fact]
    public void EstimatedInnerProductIsNearlyUnbiased()
    {
        // RaBitQ's correction ⟨x̄,o⟩ makes ⟨x̄,q⟩/⟨x̄,o⟩ unbiased for ⟨o,q⟩; averaged over many vectors the estimate's
        // error must be centred near zero (a missing correction shrinks every estimate by about 0.8 at this size).
        var data = SyntheticData.Clustered(4_000, 128, seed: 11, normalize: true);
        var bq = BinaryQuantizer.Train(data, rotate: true, seed: 1);
        var scorer = bq.CreateScorer(DistanceKind.NegativeDot);
        var code = new byte[bq.CodeSize];
        double bias = 0, errAbs = 0;
        var ests = new List<double>();
        var exacts = new List<double>();
        int n = 0;
        for (int q = 0; q < 10; q++)
        {
            var query = data.Row(3_900 + q);
            scorer.SetQuery(query);
            for (int i = 0; i < 2_000; i++)
            {
                bq.Encode(data.Row(i), code);
                double est = -scorer.Distance(code);
                double exact = VectorStore.Distance.DotProduct.ComputeScalar(query, data.Row(i));
                bias += est - exact;
                errAbs += Math.Abs(est - exact);
                ests.Add(est);
                exacts.Add(exact);
                n++;
            }
        }
        Assert.True(Math.Abs(bias / n) < 0.1 * (errAbs / n) + 1e-3, $"mean error {bias / n:F5} vs mean |error| {errAbs / n:F5}");
        double corr = MathNet.Numerics.Statistics.Correlation.Pearson(ests, exacts);
        Assert.True(corr > 0.8, $"correlation of estimated and exact inner products {corr:F3}");
    }

    [Fact]
    public void CodeIsOneBitPerDimensionPlusTwoFactors()
    {
        var data = SyntheticData.Clustered(200, 384, seed: 3, normalize: true);
        var bq = BinaryQuantizer.Train(data, rotate: false, seed: 1);
        Assert.Equal(48, bq.BitBytes);
        Assert.Equal(56, bq.CodeSize);
    }
}
