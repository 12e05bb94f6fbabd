using VectorStore.Evaluation;
using VectorStore.Ranking;
using Xunit;

namespace VectorStore.Tests.Evaluation;

/// <summary>
/// The text-like generator that the scale benchmark's 1M figures rest on: its neighbours must stay about as far as the
/// shared text set's (0.758 / 0.570 / 0.437 measured at 50k), or the benchmark's recall would flatter (loose data) or
/// sink (tight data) every code.
/// </summary>
public class SyntheticDataTests
{
    [Fact]
    public void TextLikeNeighboursAreAsFarAsRealSentenceEmbeddings()
    {
        var all = SyntheticData.TextLike(20_200, 384, seed: 3);
        var b = all.Slice(0, 20_000);
        var q = all.Slice(20_000, 200);
        var truth = GroundTruth.Compute(b, q, 100, DistanceKind.NegativeDot);
        var stats = NeighbourStatistics.Measure(b, q, truth);
        // At 20k the neighbours are a little farther than at 50k (fewer vectors per sub-topic): wide but two-sided bands.
        Assert.InRange(stats.First, 0.65, 0.88);
        Assert.InRange(stats.Tenth, 0.45, 0.68);
        Assert.InRange(stats.Hundredth, 0.32, 0.55);
        Assert.True(stats.First > stats.Tenth && stats.Tenth > stats.Hundredth, stats.ToString());
    }

    [Fact]
    public void TextLikeIsSeededAndUnitLength()
    {
        var a = SyntheticData.TextLike(500, 64, seed: 9);
        var b = SyntheticData.TextLike(500, 64, seed: 9);
        var c = SyntheticData.TextLike(500, 64, seed: 10);
        Assert.Equal(a.Data, b.Data);
        Assert.NotEqual(a.Data, c.Data);
        for (int i = 0; i < a.Count; i++)
        {
            double norm = 0;
            foreach (float v in a.Row(i)) norm += v * (double)v;
            Assert.InRange(norm, 0.9999, 1.0001);
        }
    }

    [Fact]
    public void NeighbourStatisticsRejectsGroundTruthOfAnotherQuerySet()
    {
        var m = SyntheticData.TextLike(50, 16, seed: 1);
        var ex = Assert.Throws<ArgumentException>(() => NeighbourStatistics.Measure(m, m.Slice(0, 5), new int[3][]));
        Assert.Contains("3 rows for 5 queries", ex.Message);
    }
}
