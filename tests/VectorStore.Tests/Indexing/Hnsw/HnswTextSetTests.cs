using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Indexing;
using VectorStore.Indexing.Hnsw;
using VectorStore.Ranking;
using Xunit;
using Xunit.Abstractions;
using static VectorStore.Tests.Indexing.Hnsw.HnswTestKit;
using static VectorStore.Tests.Indexing.IndexSnapshots;

namespace VectorStore.Tests.Indexing.Hnsw;

/// <summary>Recall, churn and filtering on the real sentence-embedding set (skipped when ../shared/data is absent).</summary>
public class HnswTextSetTests(ITestOutputHelper output)
{
    private const int Subset = 15_000;
    private static readonly Lazy<HnswIndex> s_shared = new(() => Build(Load(Subset).Base, "sq8", DistanceKind.NegativeDot, "hnsw:16"));

    private static (VectorMatrix Base, VectorMatrix Queries, int[][] Truth) Load(int n)
    {
        var ds = TestData.RequireShared(TestData.TextSet, n, 200);
        var truth = n >= 50_000 ? ds.Truth : GroundTruth.Compute(ds.Base, ds.Queries, 10, DistanceKind.NegativeDot);
        return (ds.Base, ds.Queries, truth);
    }

    [SkippableFact]
    public void Sq8RecallWithRerankOnTextSet()
    {
        var (data, queries, truth) = Load(Subset);
        double recall = Recall(s_shared.Value, data, queries, truth, ef: 64, rerank: 40);
        output.WriteLine($"recall@10 {recall:F4} (ef 64, rerank 40, {Subset} vectors)");
        Assert.True(recall >= 0.97, $"recall@10 {recall:F3}");
    }

    /// <summary>Delete 30 % at random and re-insert, three rounds: recall and memory stay at a fresh build's level.</summary>
    [SkippableFact]
    public void ChurnKeepsRecallAndMemory()
    {
        var (data, queries, truth) = Load(Subset);
        var index = Build(data, "sq8", DistanceKind.NegativeDot, "hnsw:16");
        const int ef = 32;
        double fresh = Recall(index, data, queries, truth, ef, rerank: 20);
        long freshBytes = index.MemoryBytes;
        var rng = new Random(5);
        for (int round = 0; round < 3; round++)
        {
            var victims = Enumerable.Range(0, data.Count).OrderBy(_ => rng.Next()).Take(data.Count * 3 / 10).ToArray();
            foreach (int s in victims) index.Remove(s);
            index.AddBatch(victims, data.Select(victims), 2);
        }
        double churned = Recall(index, data, queries, truth, ef, rerank: 20);
        output.WriteLine($"recall@10 fresh {fresh:F4}, after 3 rounds of 30 % churn {churned:F4}; bytes fresh {freshBytes}, after {index.MemoryBytes}");
        Assert.True(churned >= fresh - 0.01, $"recall {churned:F4} after churn vs {fresh:F4} fresh");
        Assert.True(index.MemoryBytes <= freshBytes * 1.10, $"{index.MemoryBytes} bytes after churn vs {freshBytes} fresh");
    }

    /// <summary>A random 1 % of the collection as an id filter, through the collection: recall against the exact filtered top-10.</summary>
    [SkippableFact]
    public void OnePercentFilterThroughCollection()
    {
        var (data, queries, _) = Load(Subset);
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("t", new CollectionOptions { Dimension = data.Dimension, Compression = "sq8", Index = "hnsw:16", TrainingThreshold = int.MaxValue });
        c.UpsertBatch(Enumerable.Range(0, data.Count).Select(i => (ulong)i).ToArray(), data);
        c.BuildIndex();
        var rng = new Random(9);
        var allowed = Enumerable.Range(0, data.Count).Where(_ => rng.NextDouble() < 0.01).ToHashSet();
        var truth = GroundTruth.Compute(data, queries, 10, DistanceKind.NegativeDot, allowed: allowed.Contains);
        var ids = allowed.Select(i => (ulong)i).ToHashSet();
        var found = new List<long[]>();
        for (int q = 0; q < queries.Count; q++)
            found.Add(c.Search(queries.Row(q), new SearchOptions { K = 10, Rerank = 40, Filter = new SearchFilter { Ids = ids } }).Select(h => (long)h.Id).ToArray());
        double recall = VectorStore.Evaluation.Recall.AtK(found, truth, 10);
        output.WriteLine($"1 % filter recall@10 {recall:F4}");
        Assert.True(recall >= 0.95);
    }

    /// <summary>Filters too large for the exact fallback go through the graph walk.</summary>
    [SkippableFact]
    public void TenPercentFilterWalksTheGraph()
    {
        var (data, queries, _) = Load(Subset);
        var index = s_shared.Value;
        var rng = new Random(13);
        var allowed = Enumerable.Range(0, data.Count).Where(_ => rng.NextDouble() < 0.10).ToHashSet();
        Assert.True(allowed.Count > HnswIndex.FilterScanThreshold(data.Count));
        var filter = new SlotFilter(data.Count);
        foreach (int s in allowed) filter.Add(s);
        var truth = GroundTruth.Compute(data, queries, 10, DistanceKind.NegativeDot, allowed: allowed.Contains);
        var found = new List<long[]>();
        for (int q = 0; q < queries.Count; q++) found.Add(Search(index, data, queries.Row(q), ef: 64, filter: filter));
        double recall = VectorStore.Evaluation.Recall.AtK(found, truth, 10);
        Assert.True(recall >= 0.95, $"10 % filter recall@10 {recall:F3}");
    }
}
