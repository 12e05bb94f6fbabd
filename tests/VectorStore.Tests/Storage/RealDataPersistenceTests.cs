using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Ranking;
using Xunit;
using static VectorStore.Tests.Storage.StorageTestKit;

namespace VectorStore.Tests.Storage;

/// <summary>The shared text set through a crash: the reopened collection answers exactly as before, above the recall floor.</summary>
public sealed class RealDataPersistenceTests
{
    [SkippableFact]
    public void TextSetSearchesIdenticallyAfterCrashAndMeetsRecall()
    {
        var ds = TestData.RequireShared(TestData.TextSet, maxBase: 10_000, maxQueries: 100);
        var normalized = new VectorMatrix((float[])ds.Base.Data.Clone(), ds.Base.Dimension);
        for (int i = 0; i < normalized.Count; i++) VectorStore.Distance.Distances.Normalize(normalized[i]);
        var queries = new VectorMatrix((float[])ds.Queries.Data.Clone(), ds.Queries.Dimension);
        for (int i = 0; i < queries.Count; i++) VectorStore.Distance.Distances.Normalize(queries[i]);
        var truth = GroundTruth.Compute(normalized, queries, 10, DistanceKind.NegativeDot);

        var dir = TestData.TempDir();
        var db = Open(dir);
        var c = db.CreateCollection("text", new CollectionOptions { Dimension = ds.Base.Dimension, Metric = Metric.Cosine, Compression = "sq8", TrainingThreshold = 2000 });
        var ids = Enumerable.Range(0, ds.Base.Count).Select(i => (ulong)i).ToArray();
        for (int s = 0; s < ids.Length; s += 1000)
            c.UpsertBatch(new ArraySegment<ulong>(ids, s, Math.Min(1000, ids.Length - s)), ds.Base.Slice(s, Math.Min(1000, ids.Length - s)));
        var options = new SearchOptions { K = 10, Rerank = 40 };
        var before = Enumerable.Range(0, queries.Count).Select(q => c.Search(ds.Queries.Row(q), options)).ToArray();
        Crash(db);

        using var db2 = Open(dir);
        var c2 = db2.GetCollection("text");
        var after = Enumerable.Range(0, queries.Count).Select(q => c2.Search(ds.Queries.Row(q), options)).ToArray();
        for (int q = 0; q < queries.Count; q++) Assert.Equal(before[q], after[q]);
        double recall = Recall.AtK(after.Select(h => h.Select(x => (long)x.Id).ToArray()).ToList(), truth, 10);
        Assert.True(recall >= 0.95, $"recall@10 {recall:F3} after reopen is below 0.95 (sq8, rerank 40)");
    }
}

/// <summary>
/// The device scenario of issue 18: the whole 50k text set built and compacted with the default storage settings,
/// then opened read-only (as a copy on a device would be): the same hits and scores as the read-write open, every
/// write refused with the typed error, and not a byte of the directory changed.
/// </summary>
public sealed class ReadOnlyRealDataTests
{
    [SkippableFact]
    public void CompactedTextSetAnswersIdenticallyReadOnly()
    {
        var ds = TestData.RequireShared(TestData.TextSet, maxQueries: 100);
        var dir = TestData.TempDir();
        var options = new SearchOptions { K = 10, Rerank = 40, NProbe = 16 };
        SearchHit[][] before;
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.CreateCollection("text", new CollectionOptions { Dimension = ds.Base.Dimension, Metric = Metric.Cosine, Compression = "sq8", Index = "ivf:256" });
            var ids = Enumerable.Range(0, ds.Base.Count).Select(i => (ulong)i).ToArray();
            for (int s = 0; s < ids.Length; s += 2000)
                c.UpsertBatch(new ArraySegment<ulong>(ids, s, Math.Min(2000, ids.Length - s)), ds.Base.Slice(s, Math.Min(2000, ids.Length - s)));
            Assert.True(c.Delete(17));
            db.Compact("text");
            before = Enumerable.Range(0, ds.Queries.Count).Select(q => c.Search(ds.Queries.Row(q), options)).ToArray();
        }
        var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => f, f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));

        using (var ro = VectorDatabase.OpenReadOnly(dir))
        {
            var c = ro.GetCollection("text");
            Assert.Equal(ds.Base.Count - 1, c.Count);
            for (int q = 0; q < ds.Queries.Count; q++) Assert.Equal(before[q], c.Search(ds.Queries.Row(q), options));
            var e = Assert.Throws<ReadOnlyDatabaseException>(() => c.Upsert(17, ds.Base.Row(17)));
            Assert.Contains("read-only", e.Message);
            Assert.Null(c.Get(17));
        }
        var after = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => f, f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));
        Assert.Equal(files, after);
    }
}
