using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Indexing;
using VectorStore.Indexing.Hnsw;
using VectorStore.Ranking;
using Xunit;
using static VectorStore.Tests.Indexing.Hnsw.HnswTestKit;
using static VectorStore.Tests.Indexing.IndexSnapshots;

namespace VectorStore.Tests.Indexing.Hnsw;

public class HnswIndexTests
{
    [Theory]
    [InlineData("sq8", DistanceKind.L2)]
    [InlineData("sq8", DistanceKind.NegativeDot)]
    [InlineData("none", DistanceKind.L2)]
    public void RecallOnClusteredDataAboveFloor(string compression, DistanceKind kind)
    {
        var (data, queries) = Clustered(6000, 200, 48);
        var truth = GroundTruth.Compute(data, queries, 10, kind);
        var index = Build(data, compression, kind);
        Assert.Equal(6000, index.Count);
        double recall = Recall(index, data, queries, truth, ef: 64);
        Assert.True(recall >= 0.95, $"recall@10 {recall:F3} with {compression}/{kind}");
    }

    /// <summary>
    /// Codecs other than bare sq8 walk with their own traversal scorer (pca+sq8: sq8's int8 scorer behind the
    /// transform, see <see cref="HnswTransformedCodecTests"/>; bin and PQ: their exact scorer and decoder).
    /// </summary>
    [Theory]
    [InlineData("pca:24+sq8")]
    [InlineData("bin")]
    [InlineData("pq:12")]
    public void GenericCodecPathWalksTheGraph(string compression)
    {
        var (data, queries) = Clustered(4000, 100, 48);
        var truth = GroundTruth.Compute(data, queries, 10, DistanceKind.L2);
        var index = Build(data, compression, DistanceKind.L2);
        Assert.False(index.Codec is VectorStore.Quantization.ScalarQuantizer);
        double recall = Recall(index, data, queries, truth, ef: 128, rerank: 100);
        Assert.True(recall >= 0.85, $"recall@10 {recall:F3} with {compression}");
    }

    [Fact]
    public void BytesPerVectorStayUnderBudget()
    {
        var (data, _) = Clustered(4000, 1, 384);
        var index = Build(data, "sq8");
        double perVector = (index.MemoryBytes - index.Codec.ParameterBytes) / (double)index.Count;
        // 388 code bytes + 33 layer-0 ints + per-node metadata + upper layers: about 545 at M=16.
        Assert.InRange(perVector, 388 + 132, 600);
    }

    [Fact]
    public void SingleThreadBuildIsDeterministic()
    {
        var (data, _) = Clustered(2000, 1, 32);
        var a = Snapshot(Build(data, threads: 1));
        var b = Snapshot(Build(data, threads: 1));
        Assert.Equal(a, b);
        var c = Snapshot(Build(data, threads: 1, seed: 7));
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void SnapshotRoundTripIsByteIdenticalAndSearchesAlike()
    {
        var (data, queries) = Clustered(3000, 50, 32);
        var index = Build(data);
        for (int s = 0; s < 100; s++) index.Remove(s * 7);
        var bytes = Snapshot(index);
        var restored = Assert.IsType<HnswIndex>(Restore(bytes));
        Assert.Equal(bytes, Snapshot(restored));
        Assert.Equal(index.Count, restored.Count);
        Assert.Equal(index.Spec, restored.Spec);
        for (int q = 0; q < queries.Count; q++)
            Assert.Equal(Search(index, data, queries.Row(q)), Search(restored, data, queries.Row(q)));
        // A restored graph keeps accepting inserts and deletes.
        restored.Add(7, data.Row(7));
        Assert.Contains(7L, Search(restored, data, data.Row(7), k: 1));
    }

    [Fact]
    public void TruncatedSnapshotIsAClearError()
    {
        var (data, _) = Clustered(500, 1, 16);
        var bytes = Snapshot(Build(data));
        Assert.ThrowsAny<IOException>(() => Restore(bytes[..(bytes.Length / 2)]));
    }

    [Fact]
    public void LargeMRoundTripsAndHugeNodeCountIsRefused()
    {
        var (data, _) = Clustered(400, 1, 8);
        // 2M = 260 links on layer 0: more than a byte can count.
        var index = Build(data, spec: "hnsw:130,130");
        var bytes = Snapshot(index);
        Assert.Equal(bytes, Snapshot(Restore(bytes)));
        // An empty index's snapshot ends with node count, entry node, entry level: the same header offset.
        int at = Snapshot(Create(data, spec: "hnsw:130,130")).Length - 3 * sizeof(int);
        var bad = (byte[])bytes.Clone();
        BitConverter.GetBytes(int.MaxValue / 2).CopyTo(bad, at);
        Assert.Throws<InvalidDataException>(() => Restore(bad));
    }

    [Fact]
    public void DeletesLeaveResultsAtOnceAndSlotsAreReused()
    {
        var (data, queries) = Clustered(5000, 100, 32);
        var truthAll = GroundTruth.Compute(data, queries, 10, DistanceKind.L2);
        var index = Build(data);
        int highBefore = index.NodeHighWater;
        var rng = new Random(3);
        var deleted = Enumerable.Range(0, data.Count).OrderBy(_ => rng.Next()).Take(data.Count * 3 / 10).ToHashSet();
        foreach (int s in deleted) index.Remove(s);
        Assert.Equal(data.Count - deleted.Count, index.Count);
        // Batches of deletions are relinked as they pass the threshold; what remains pending is bounded.
        Assert.True(index.DeletedPending <= Math.Max(32, index.Count * HnswIndex.ConsolidateFraction) + 1, $"{index.DeletedPending} pending");
        var liveTruth = GroundTruth.Compute(data, queries, 10, DistanceKind.L2, allowed: s => !deleted.Contains(s));
        var found = new List<long[]>();
        for (int q = 0; q < queries.Count; q++)
        {
            var hits = Search(index, data, queries.Row(q));
            Assert.DoesNotContain(hits, h => deleted.Contains((int)h));
            found.Add(hits);
        }
        Assert.True(VectorStore.Evaluation.Recall.AtK(found, liveTruth, 10) >= 0.93, "recall after deleting 30 %");
        foreach (int s in deleted) index.Add(s, data.Row(s));
        Assert.Equal(data.Count, index.Count);
        Assert.True(index.NodeHighWater <= highBefore * 1.1, $"nodes {index.NodeHighWater} vs {highBefore} before churn");
        Assert.True(Recall(index, data, queries, truthAll) >= 0.95);
    }

    [Fact]
    public void ReplacingASlotMovesItsVector()
    {
        var (data, _) = Clustered(1000, 1, 16);
        // One building thread: the graph is then the same every run. Slot 5 becomes an exact duplicate of slot 900,
        // and the neighbour selection may prune either of two equal vectors from a list; with two threads the
        // insertion order varied and, now and then, 900 lost its in-edges.
        var index = Build(data, threads: 1);
        index.Add(5, data.Row(900));
        Assert.Equal(1000, index.Count);
        var hits = Search(index, data, data.Row(900), k: 2, vectorOf: s => (s == 5 ? data.Row(900) : data.Row(s)).ToArray());
        Assert.Contains(5L, hits);
        Assert.Contains(900L, hits);
    }

    [Fact]
    public void EmptyAndTinyIndexesAnswer()
    {
        var (data, _) = Clustered(10, 1, 8);
        var index = Create(data);
        var heap = new TopK(5);
        index.Search(data.Row(0), default, null, heap);
        Assert.Equal(0, heap.Count);
        index.Add(3, data.Row(3));
        index.Search(data.Row(0), default, null, heap);
        Assert.Equal(1, heap.Count);
        index.Remove(3);
        heap.Reset(5);
        index.Search(data.Row(0), default, null, heap);
        Assert.Equal(0, heap.Count);
    }

    [Theory]
    [InlineData("hnsw:1")]
    [InlineData("hnsw:0")]
    [InlineData("hnsw:x")]
    [InlineData("hnsw:16,8")]
    [InlineData("hnsw:16,100,3")]
    public void BadSpecsAreRejected(string spec)
    {
        var (data, _) = Clustered(100, 1, 8);
        Assert.Throws<InvalidArgumentException>(() => Create(data, spec: spec));
    }

    [Fact]
    public void WrongDimensionIsATypedError()
    {
        var (data, _) = Clustered(100, 1, 8);
        var index = Build(data);
        Assert.Throws<InvalidVectorException>(() => index.Add(1, new float[7]));
        Assert.Throws<InvalidVectorException>(() => index.Search(new float[9], default, null, new TopK(1)));
    }

    [Theory]
    [InlineData(0.01)]
    [InlineData(0.10)]
    public void FilteredSearchKeepsRecall(double fraction)
    {
        var (data, queries) = Clustered(8000, 100, 32);
        var index = Build(data);
        var rng = new Random(11);
        var allowed = Enumerable.Range(0, data.Count).Where(_ => rng.NextDouble() < fraction).ToHashSet();
        var filter = new SlotFilter(data.Count);
        foreach (int s in allowed) filter.Add(s);
        var truth = GroundTruth.Compute(data, queries, 10, DistanceKind.L2, allowed: allowed.Contains);
        var found = new List<long[]>();
        for (int q = 0; q < queries.Count; q++)
        {
            var hits = Search(index, data, queries.Row(q), filter: filter);
            Assert.All(hits, h => Assert.Contains((int)h, allowed));
            found.Add(hits);
        }
        double recall = VectorStore.Evaluation.Recall.AtK(found, truth, 10);
        Assert.True(recall >= 0.95, $"filtered recall@10 {recall:F3} at {fraction:P0}");
    }

    [Fact]
    public void CollectionWithHnswSearchesDeletesAndReranks()
    {
        var (data, queries) = Clustered(4000, 100, 32);
        var truth = GroundTruth.Compute(data, queries, 10, DistanceKind.L2);
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("h", new CollectionOptions { Dimension = 32, Metric = Metric.L2, Compression = "sq8", Index = "hnsw:16", TrainingThreshold = 1000 });
        c.UpsertBatch(Enumerable.Range(0, data.Count).Select(i => (ulong)i).ToArray(), data);
        Assert.Equal("hnsw:16", c.GetStats().Index);
        var found = new List<long[]>();
        for (int q = 0; q < queries.Count; q++)
            found.Add(c.Search(queries.Row(q), new SearchOptions { K = 10, Rerank = 40, Ef = 64 }).Select(h => (long)h.Id).ToArray());
        Assert.True(VectorStore.Evaluation.Recall.AtK(found, truth, 10) >= 0.95);
        ulong nearest = c.Search(queries.Row(0), new SearchOptions { K = 1, Rerank = 40 })[0].Id;
        Assert.True(c.Delete(nearest));
        Assert.DoesNotContain(c.Search(queries.Row(0), new SearchOptions { K = 10, Rerank = 40 }), h => h.Id == nearest);
    }
}
