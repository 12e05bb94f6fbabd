using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Indexing;
using VectorStore.Indexing.Hnsw;
using VectorStore.Ranking;
using Xunit;
using static VectorStore.Tests.Indexing.Hnsw.HnswTestKit;
using static VectorStore.Tests.Indexing.IndexSnapshots;

namespace VectorStore.Tests.Indexing.Hnsw;

/// <summary>The graph goes into the snapshot, comes back without a rebuild, and later inserts replay from the log.</summary>
public class HnswPersistenceTests
{
    [Fact]
    public void ReopenRestoresTheGraphAndReplaysLaterWrites()
    {
        var (data, queries) = Clustered(3000, 50, 32);
        var truth = GroundTruth.Compute(data, queries, 10, DistanceKind.L2);
        string dir = TestData.TempDir();
        byte[] graphAtSnapshot;
        var opts = new SearchOptions { K = 10, Rerank = 40, Ef = 64 };
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.CreateCollection("h", new CollectionOptions { Dimension = 32, Metric = Metric.L2, Compression = "sq8", Index = "hnsw:16", TrainingThreshold = 500 });
            c.UpsertBatch(Enumerable.Range(0, 2500).Select(i => (ulong)i).ToArray(), data.Slice(0, 2500));
            for (ulong id = 0; id < 50; id++) c.Delete(id);
            db.Compact("h");
            graphAtSnapshot = Snapshot(c.Index!);
            // After the snapshot: only in the log.
            c.UpsertBatch(Enumerable.Range(2500, 500).Select(i => (ulong)i).ToArray(), data.Slice(2500, 500));
            for (ulong id = 0; id < 50; id++) c.Upsert(id, data.Row((int)id));
        }
        using var db2 = VectorDatabase.Open(dir);
        var c2 = db2.GetCollection("h");
        var index = Assert.IsType<HnswIndex>(c2.Index);
        Assert.Equal(3000, c2.Count);
        Assert.Equal(3000, index.Count);
        var found = Enumerable.Range(0, queries.Count)
            .Select(q => c2.Search(queries.Row(q), opts).Select(h => (long)h.Id).ToArray()).ToList();
        Assert.True(VectorStore.Evaluation.Recall.AtK(found, truth, 10) >= 0.95);
        // The snapshot's graph was loaded, not rebuilt: its 50 deleted-but-not-yet-relinked nodes are still pending
        // (a fresh build would have none), and the image itself holds the 2,450 live nodes of that moment.
        Assert.Equal(50, index.DeletedPending);
        Assert.Equal(2450, Assert.IsType<HnswIndex>(Restore(graphAtSnapshot)).Count);
    }

    /// <summary>
    /// Codes and layer-0 links live in chunks: a graph built on one thread with chunks of a few nodes (every growth and
    /// most links crossing a chunk end) answers every query as the one built with the default chunks does, writes the
    /// same image bytes, and reads back (with the default chunks) into a graph that answers the same.
    /// </summary>
    [Fact]
    public void SmallChunksBuildWriteAndReadTheSameGraph()
    {
        var (data, queries) = Clustered(3000, 40, 32);
        var codec = Create(data).Codec;
        var slots = Enumerable.Range(0, data.Count).ToArray();
        var usual = new HnswIndex(codec, DistanceKind.L2, 16, 100);
        var tiny = new HnswIndex(codec, DistanceKind.L2, 16, 100, seed: 42, initialCapacity: 16, chunkBytes: 1000);
        foreach (var index in new[] { usual, tiny })
        {
            index.AddBatch(slots.AsSpan(0, 2000), data.Slice(0, 2000), threads: 1);
            for (int s = 0; s < 100; s++) index.Remove(s);
            index.AddBatch(slots.AsSpan(2000), data.Slice(2000, 1000), threads: 1);
        }
        byte[] image = Snapshot(tiny);
        Assert.Equal(Snapshot(usual), image);
        var reread = Assert.IsType<HnswIndex>(Restore(image));
        for (int q = 0; q < queries.Count; q++)
        {
            var expected = Search(usual, data, queries.Row(q));
            Assert.Equal(10, expected.Length);
            Assert.Equal(expected, Search(tiny, data, queries.Row(q)));
            Assert.Equal(expected, Search(reread, data, queries.Row(q)));
        }
    }
}
