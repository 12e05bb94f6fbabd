using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Tests.Storage;
using Xunit;

namespace VectorStore.Tests.Collections;

/// <summary>
/// The in-RAM second stage (<see cref="CollectionOptions.Refine"/>): it must return what a full-precision re-rank of
/// the same candidates returns while reading a fraction of them, survive snapshots and log replay, and refuse codes
/// without an error bound. Both bounded codes are covered: the rotation code rq:B and sq8.
/// </summary>
public sealed class RefineStageTests
{
    private static (VectorMatrix Base, VectorMatrix Queries, int[][] Truth) Data()
    {
        var b = SyntheticData.TextLike(6000, 96, seed: 21);
        var q = SyntheticData.TextLike(60, 96, seed: 22);
        return (b, q, EvalRunner.ExactTruth(b, q, Metric.Cosine, 10));
    }

    private static Collection Build(VectorDatabase db, string name, string? refine, VectorMatrix b)
    {
        var c = db.CreateCollection(name, new CollectionOptions
        {
            Dimension = b.Dimension, Metric = Metric.Cosine, Compression = "pq:24x4", Index = "flat", TrainingThreshold = 3000, Refine = refine,
        });
        for (int s = 0; s < b.Count; s += 1000)
            c.UpsertBatch(Enumerable.Range(s, 1000).Select(i => (ulong)i).ToArray(), b.Slice(s, 1000));
        return c;
    }

    private static (double Recall, double Reads) Measure(Collection c, VectorMatrix q, int[][] truth)
    {
        var found = new List<long[]>();
        double reads = 0;
        for (int i = 0; i < q.Count; i++)
        {
            found.Add(c.Search(q.Row(i), new SearchOptions { K = 10, Rerank = 100 }).Select(h => (long)h.Id).ToArray());
            reads += c.LastSearchStats.Reranked;
        }
        return (Recall.AtK(found, truth, 10), reads / q.Count);
    }

    [Theory]
    [InlineData("rq:4", 25)]
    [InlineData("sq8", 10)]
    [InlineData("sq8:pv", 10)]
    public void RefineKeepsTheRecallOfAFullReRankWithAFractionOfTheReads(string refine, int maxReads)
    {
        var (b, q, truth) = Data();
        using var db = VectorDatabase.CreateInMemory();
        var (fullRecall, fullReads) = Measure(Build(db, "full", null, b), q, truth);
        var (refRecall, refReads) = Measure(Build(db, "refined", refine, b), q, truth);
        Assert.Equal(100, fullReads);
        Assert.True(refRecall >= fullRecall - 0.01, $"refined recall {refRecall:F3} vs full re-rank {fullRecall:F3}");
        Assert.True(refReads <= maxReads, $"{refReads:F1} full-precision reads per query out of 100 candidates");
    }

    [Theory]
    [InlineData("rq:4")]
    [InlineData("sq8")]
    public void RefineCodesSurviveSnapshotsReplayAndUpdates(string refine)
    {
        var (b, q, _) = Data();
        var dir = TestData.TempDir();
        SearchHit[][] Run(Collection c) => Enumerable.Range(0, 10).Select(i => c.Search(q.Row(i), new SearchOptions { K = 10, Rerank = 60 })).ToArray();
        SearchHit[][] before;
        using (var db = StorageTestKit.Open(dir))
        {
            var c = Build(db, "r", refine, b);
            c.Upsert(5, q.Row(0)); // after training: encoded on write
            before = Run(c);
            db.Snapshot();
            c.Upsert(6, q.Row(1)); // in the log tail only
            before = Run(c);
            StorageTestKit.Crash(db);
        }
        using (var db = StorageTestKit.Open(dir))
        {
            var c = db.GetCollection("r");
            Assert.Equal(refine, c.Options.Refine);
            var after = Run(c);
            for (int i = 0; i < before.Length; i++) Assert.Equal(before[i], after[i]);
            Assert.Equal(6UL, c.Search(q.Row(1), new SearchOptions { K = 1, Rerank = 60 })[0].Id);
        }
    }

    [Theory]
    [InlineData("pq:24x4")]
    [InlineData("pca:32+rq:4")]
    [InlineData("pca:32+sq8")]
    [InlineData("rq:9")]
    public void RefineNeedsABoundedCode(string spec)
    {
        using var db = VectorDatabase.CreateInMemory();
        var e = Assert.Throws<InvalidArgumentException>(() => db.CreateCollection("x", new CollectionOptions { Dimension = 96, Refine = spec }));
        Assert.Contains("rq", e.Message);
    }
}
