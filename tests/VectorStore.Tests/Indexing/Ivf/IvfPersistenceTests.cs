using Kit = VectorStore.Tests.Storage.StorageTestKit;
using VectorStore.Collections;
using VectorStore.Indexing;
using VectorStore.Indexing.Ivf;
using Xunit;
using static VectorStore.Tests.Indexing.Ivf.IvfTestSupport;

namespace VectorStore.Tests.Indexing.Ivf;

public class IvfPersistenceTests
{
    [Theory]
    [InlineData("sq8", Metric.L2)]
    [InlineData("pq:8x4", Metric.Cosine)]
    public void CrashAfterSnapshotAndLoggedUpdatesAnswersExactlyAsBefore(string compression, Metric metric)
    {
        var (data, queries) = Synthetic(3000, 20, 16, normalize: false);
        var extra = Synthetic(200, 1, 16, normalize: false, seed: 9).Base;
        var dir = TestData.TempDir();
        var options = new CollectionOptions
        {
            Dimension = 16, Metric = metric, Compression = compression, Index = "ivf:16", TrainingThreshold = 1000,
        };
        var search = new SearchOptions { K = 10, NProbe = 4 };
        SearchHit[][] before;
        var db = Kit.Open(dir);
        {
            var c = db.CreateCollection("c", options);
            c.UpsertBatch(Enumerable.Range(0, 3000).Select(i => (ulong)i).ToArray(), data);
            db.Compact("c"); // snapshot: centroids and lists
            // Log tail after the snapshot: deletes and adds that recovery must replay into the lists.
            for (ulong id = 0; id < 3000; id += 10) Assert.True(c.Delete(id));
            c.UpsertBatch(Enumerable.Range(5000, 200).Select(i => (ulong)i).ToArray(), extra);
            Assert.IsType<IvfIndex>(c.Index);
            before = Enumerable.Range(0, queries.Count).Select(q => c.Search(queries.Row(q), search)).ToArray();
            Kit.Crash(db);
        }
        using var db2 = Kit.Open(dir);
        var c2 = db2.GetCollection("c");
        Assert.Equal(3000 - 300 + 200, c2.Count);
        var ivf = Assert.IsType<IvfIndex>(c2.Index);
        Assert.Equal(c2.Count, ivf.Count);
        var after = Enumerable.Range(0, queries.Count).Select(q => c2.Search(queries.Row(q), search)).ToArray();
        Assert.Equal(before, after);
        Assert.All(after, hits => Assert.All(hits, h => Assert.NotEqual(0UL, h.Id % 10)));
    }
}
