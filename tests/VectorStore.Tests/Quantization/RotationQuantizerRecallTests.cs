using VectorStore.Evaluation;
using Xunit;
using Xunit.Abstractions;

namespace VectorStore.Tests.Quantization;

/// <summary>
/// Issue 14's recall floors for <c>rq:B</c> without any re-ranking (k = 10): on the shared text set (50,000 × 384,
/// cosine, all 500 queries) and, within 0.02, on SIFT (L2). Skipped with the reason when ../shared/data is absent.
/// </summary>
public class RotationQuantizerRecallTests(ITestOutputHelper output)
{
    private double Recall10(string set, Metric metric, string compression, string index = "flat", int ef = 0, int nprobe = 0)
    {
        var ds = TestData.RequireShared(set);
        var settings = new EvalSettings { Metric = metric, Compression = compression, Index = index, Ef = ef, NProbe = nprobe, Rerank = 0, MinSeconds = 0 };
        var eval = EvalRunner.Build(ds.Base, settings);
        double recall = eval.Measure(ds.Queries, ds.Truth, settings.DefaultPoint).Recall;
        output.WriteLine($"{set} {compression} {index} ef={ef} nprobe={nprobe}: recall@10 {recall:F4}, code {eval.Collection.Index!.Codec.CodeSize} B");
        return recall;
    }

    [SkippableFact]
    public void TextSet4And2BitFloors()
    {
        double r4 = Recall10(TestData.TextSet, Metric.Cosine, "rq:4");
        Assert.True(r4 >= 0.95, $"rq:4 recall@10 {r4:F4} < 0.95");
        double r2 = Recall10(TestData.TextSet, Metric.Cosine, "rq:2");
        Assert.True(r2 >= 0.85, $"rq:2 recall@10 {r2:F4} < 0.85");
    }

    [SkippableFact]
    [Trait("Category", "Long")]
    public void TextSet1BitMatchesBinAnd8BitMatchesSq8()
    {
        // Issue 14: rq:1 ≥ bin's 0.75 at equal bytes; rq:8 ≥ sq8's 0.993. rq:1 with its default centroids takes 61 B at
        // 384-d (a centroid number and its shift), bin 56 B; rq:1,1 is bin's size and must not fall clearly below it.
        double r1 = Recall10(TestData.TextSet, Metric.Cosine, "rq:1");
        Assert.True(r1 >= 0.76, $"rq:1 recall@10 {r1:F4} < 0.76");
        double r1Single = Recall10(TestData.TextSet, Metric.Cosine, "rq:1,1");
        Assert.True(r1Single >= 0.745, $"rq:1,1 (bin's 56 B) recall@10 {r1Single:F4} < 0.745");
        double r8 = Recall10(TestData.TextSet, Metric.Cosine, "rq:8");
        Assert.True(r8 >= 0.993, $"rq:8 recall@10 {r8:F4} < 0.993");
    }

    [SkippableFact]
    public void WorksUnderEveryIndex()
    {
        double flat = Recall10(TestData.Sift, Metric.L2, "rq:4");
        double hnsw = Recall10(TestData.Sift, Metric.L2, "rq:4", "hnsw:16", ef: 64);
        double ivf = Recall10(TestData.Sift, Metric.L2, "rq:4", "ivf:64", nprobe: 16);
        // The graph and the lists only lose what their own search misses: close to the flat scan of the same codes.
        Assert.True(hnsw >= flat - 0.03, $"hnsw {hnsw:F4} vs flat {flat:F4}");
        Assert.True(ivf >= flat - 0.03, $"ivf {ivf:F4} vs flat {flat:F4}");
    }

    [SkippableFact]
    public void SiftOneAndEightBitFloors()
    {
        double r1 = Recall10(TestData.Sift, Metric.L2, "rq:1"), bin = Recall10(TestData.Sift, Metric.L2, "bin");
        Assert.True(r1 >= bin - 0.02, $"SIFT rq:1 {r1:F4} vs bin {bin:F4}");
        double r8 = Recall10(TestData.Sift, Metric.L2, "rq:8"), sq8 = Recall10(TestData.Sift, Metric.L2, "sq8");
        Assert.True(r8 >= sq8 - 0.02, $"SIFT rq:8 {r8:F4} vs sq8 {sq8:F4}");
    }

    /// <summary>
    /// At 128 dimensions the estimator's spread, which shrinks as 1/√(D − 1), is 1.7× the text set's: with one centre
    /// (<c>rq:B,1</c>) recall@10 is 0.928 (rq:4) and 0.774 (rq:2), below these floors. The default centroids (residuals
    /// from each vector's nearest k-means centroid) lift them; the single-centre figures are asserted too, so the
    /// test fails if the centroids stop mattering.
    /// </summary>
    [SkippableFact]
    public void Sift4And2BitFloors()
    {
        double r4 = Recall10(TestData.Sift, Metric.L2, "rq:4");
        double r2 = Recall10(TestData.Sift, Metric.L2, "rq:2");
        Assert.True(r4 >= 0.93, $"SIFT rq:4 recall@10 {r4:F4} < 0.93");
        Assert.True(r2 >= 0.83, $"SIFT rq:2 recall@10 {r2:F4} < 0.83");
        double single2 = Recall10(TestData.Sift, Metric.L2, "rq:2,1");
        Assert.True(r2 >= single2 + 0.03, $"SIFT rq:2 {r2:F4} is not clearly above one centre's {single2:F4}");
    }
}
