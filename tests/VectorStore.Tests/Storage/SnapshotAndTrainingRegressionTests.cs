using VectorStore.Collections;
using VectorStore.Evaluation;
using Xunit;

namespace VectorStore.Tests.Storage;

/// <summary>Regressions found in review: snapshots racing concurrent HNSW inserts, and specs that can never train.</summary>
public class SnapshotAndTrainingRegressionTests
{
    [Fact]
    public async Task SnapshotsTakenDuringHnswBatchInsertsLoseNothing()
    {
        var dir = TestData.TempDir();
        var data = SyntheticData.Clustered(12_000, 32, seed: 21);
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.CreateCollection("g", new CollectionOptions
            {
                Dimension = 32, Metric = Metric.L2, Compression = "none", Index = "hnsw:16", TrainingThreshold = 100,
            });
            using var stop = new CancellationTokenSource();
            var snapshots = Task.Run(() =>
            {
                while (!stop.IsCancellationRequested) db.Snapshot();
            });
            for (int start = 0; start < data.Count; start += 1500)
                c.UpsertBatch(Enumerable.Range(start, 1500).Select(i => (ulong)i).ToArray(), data.Slice(start, 1500));
            stop.Cancel();
            await snapshots;
        }
        using var reopened = VectorDatabase.Open(dir);
        var g = reopened.GetCollection("g");
        Assert.Equal(data.Count, g.Count);
        int missing = 0;
        for (int i = 0; i < data.Count; i += 7)
            if (g.Search(data.Row(i), new SearchOptions { K = 1, Ef = 200 })[0].Id != (ulong)i) missing++;
        // Exact duplicates aside, a vector's own id is its nearest neighbour; a batch left out of the graph by a
        // snapshot taken mid-insert showed up here as ~1,500 misses. The graph is built by parallel inserts, so which
        // few near-duplicates it misses varies from run to run (3 and 4 were seen): allow 1 % of the 1,714 probes.
        Assert.True(missing <= 17, $"{missing} of {data.Count / 7} vectors not found by their own vector");
    }

    [Theory]
    [InlineData("pq:129")]
    [InlineData("pq:63x4")]
    [InlineData("pca:999+sq8")]
    [InlineData("prune:200+sq8")]
    [InlineData("pca:64+pq:65")]
    public void SpecsThatCannotFitTheDimensionAreRefusedAtCreation(string compression)
    {
        using var db = VectorDatabase.CreateInMemory();
        Assert.Throws<InvalidArgumentException>(() =>
            db.CreateCollection("c", new CollectionOptions { Dimension = 128, Compression = compression }));
    }

    [Fact]
    public void AFailedAutomaticTrainingKeepsTheWriteAndTheDatabaseOpenable()
    {
        var dir = TestData.TempDir();
        var data = SyntheticData.Clustered(300, 16, seed: 3);
        using (var db = VectorDatabase.Open(dir))
        {
            // pq needs 256 training vectors per codebook; training at 100 vectors must fail without failing writes.
            var c = db.CreateCollection("p", new CollectionOptions { Dimension = 16, Metric = Metric.L2, Compression = "pq:4", TrainingThreshold = 100 });
            c.UpsertBatch(Enumerable.Range(0, 150).Select(i => (ulong)i).ToArray(), data.Slice(0, 150));
            Assert.Equal(150, c.Count);
            Assert.NotNull(c.TrainingError);
            Assert.Equal(42UL, c.Search(data.Row(42), new SearchOptions { K = 1 })[0].Id);
            Assert.True(c.Delete(0));
        }
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.GetCollection("p");
            Assert.Equal(149, c.Count);
            c.UpsertBatch(Enumerable.Range(150, 150).Select(i => (ulong)i).ToArray(), data.Slice(150, 150));
            Assert.Null(c.TrainingError);
            Assert.Equal(299, c.Count);
            Assert.Equal(250UL, c.Search(data.Row(250), new SearchOptions { K = 1, Rerank = 20 })[0].Id);
        }
    }
}
