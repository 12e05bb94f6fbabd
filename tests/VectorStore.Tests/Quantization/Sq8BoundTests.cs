using VectorStore.Collections;
using VectorStore.Distance;
using VectorStore.Evaluation;
using VectorStore.Quantization;
using Xunit;

namespace VectorStore.Tests.Quantization;

/// <summary>
/// sq8's error bound (<see cref="IBoundedScorer"/>), which lets it serve as the refine stage: the exact distance must
/// lie inside [estimate − bound, estimate + bound] for all but a small fraction of pairs, and the bound must be
/// narrow enough to decide candidates (a bound that always holds because it is huge would read every candidate).
/// </summary>
public sealed class Sq8BoundTests
{
    [Theory]
    [InlineData(DistanceKind.NegativeDot, false, false)]
    [InlineData(DistanceKind.NegativeDot, true, false)]
    [InlineData(DistanceKind.L2, false, false)]
    [InlineData(DistanceKind.L2, true, false)]
    [InlineData(DistanceKind.NegativeDot, false, true)]
    [InlineData(DistanceKind.L2, true, true)]
    public void ExactDistancesLieInsideTheBoundAndTheBoundIsNarrow(DistanceKind kind, bool perVector, bool unclipped)
    {
        var data = kind == DistanceKind.NegativeDot ? SyntheticData.TextLike(3000, 96, seed: 31) : SyntheticData.Clustered(3000, 96, seed: 32);
        // Unclipped ranges with a margin are how the refine stage trains sq8: then a code saturates only where a value
        // lies beyond the training sample's range, about 2·D/(n + 1) = 9.6 % of out-of-sample vectors here (96
        // dimensions, 2,000 training vectors), against about a quarter on clipped ranges.
        var sq = unclipped
            ? ScalarQuantizer.TrainForBound(data.Slice(0, 2000), perVector)
            : ScalarQuantizer.Train(data.Slice(0, 2000), new ScalarQuantizerOptions { PerVectorScale = perVector });
        var scorer = (IBoundedScorer)sq.CreateScorer(kind);
        var codes = new byte[1000 * sq.CodeSize];
        for (int i = 0; i < 1000; i++) sq.Encode(data.Row(2000 + i), codes.AsSpan(i * sq.CodeSize, sq.CodeSize));
        int outside = 0, pairs = 0, unbounded = 0;
        double boundSum = 0, errorSum = 0;
        for (int qi = 0; qi < 50; qi++)
        {
            var q = data.Row(qi * 37 % 2000);
            ((CodeScorer)scorer).SetQuery(q);
            for (int i = 0; i < 1000; i++)
            {
                float e = scorer.DistanceWithBound(codes.AsSpan(i * sq.CodeSize, sq.CodeSize), out float b);
                Assert.Equal(((CodeScorer)scorer).Distance(codes.AsSpan(i * sq.CodeSize, sq.CodeSize)), e);
                float exact = kind == DistanceKind.L2 ? SquaredL2.Compute(q, data.Row(2000 + i)) : -DotProduct.Compute(q, data.Row(2000 + i));
                float err = MathF.Abs(exact - e);
                if (float.IsPositiveInfinity(b))
                {
                    // No bound: only for a code with a saturated (possibly clipped) coordinate.
                    Assert.Contains(codes.AsSpan(i * sq.CodeSize, sq.Dimension).ToArray(), v => v is 127 or 129);
                    unbounded++;
                    continue;
                }
                if (err > b) outside++;
                boundSum += b;
                errorSum += err;
                pairs++;
            }
        }
        double outsideRate = outside / (double)pairs, width = boundSum / errorSum;
        double unboundedRate = unbounded / (double)(pairs + unbounded);
        Assert.True(unboundedRate < (unclipped ? 0.15 : 0.5), $"{unboundedRate:P1} of codes have no bound");
        // Three standard deviations: about 0.3 % outside for a Gaussian error, plus clipped coordinates.
        Assert.True(outsideRate < 0.01, $"{outsideRate:P2} of exact distances outside the bound");
        // The mean |error| of a Gaussian is 0.8 σ, so a 3 σ bound is about 3.8× it; L2's bound uses the largest step.
        Assert.True(width < (kind == DistanceKind.L2 ? 15 : 6), $"the bound averages {width:F1}× the mean error");
    }

    [Fact]
    public void ValuesAtTheTrainingRangesEndsKeepTheirBound()
    {
        // Non-negative coordinates with many exact zeros (as in SIFT): the minimum is common, and must not saturate.
        var rng = new Random(5);
        var m = new VectorMatrix(1000, 32);
        for (int i = 0; i < m.Count; i++)
            for (int d = 0; d < 32; d++) m[i][d] = rng.NextDouble() < 0.3 ? 0f : (float)(rng.NextDouble() * 100);
        var sq = ScalarQuantizer.TrainForBound(m, perVectorScale: false);
        var scorer = (IBoundedScorer)sq.CreateScorer(DistanceKind.L2);
        ((CodeScorer)scorer).SetQuery(m.Row(1));
        var code = new byte[sq.CodeSize];
        for (int i = 0; i < m.Count; i++)
        {
            sq.Encode(m.Row(i), code);
            scorer.DistanceWithBound(code, out float b);
            Assert.True(float.IsFinite(b), $"row {i}, a training vector, has no bound");
        }
    }

    [Fact]
    public void AQueryOfTheWrongDimensionIsRefused()
    {
        var sq = ScalarQuantizer.Train(SyntheticData.Clustered(500, 16, seed: 3));
        var scorer = sq.CreateScorer(DistanceKind.L2);
        Assert.Throws<InvalidVectorException>(() => scorer.SetQuery(new float[15]));
    }
}
