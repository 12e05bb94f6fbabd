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
}
