using VectorStore.Collections;
using VectorStore.Evaluation;
using Xunit;

namespace VectorStore.Tests.Collections;

/// <summary>
/// <see cref="Collection.SearchBatch"/>: every row gets the hits <see cref="Collection.Search"/> gives it, whichever
/// path the batch takes (chunked index calls, a filter, an untrained index), and bad rows are refused with a clear error.
/// </summary>
public sealed class SearchBatchTests
{
    private const int Dim = 32;

    [Theory]
    [InlineData("pq:16x4", "flat", 40)]
    [InlineData("pq:16x4", "ivf:16", 0)]
    [InlineData("sq8", "hnsw:8", 20)]
    [InlineData("sq8", "ivf:16", 20)]
    [InlineData("opq+pq:16x4", "flat", 40)]
    [InlineData("pca:16+pq:8x4", "ivf:16", 20)]
    public void EveryRowGetsWhatSearchGives(string compression, string index, int rerank)
    {
        using var db = VectorDatabase.CreateInMemory(new DatabaseOptions { Threads = 2 });
        var c = db.CreateCollection("c", new CollectionOptions { Dimension = Dim, Metric = Metric.Cosine, Compression = compression, Index = index });
        var all = SyntheticData.Clustered(2100, Dim, seed: 5);
        var data = all.Slice(0, 2000);
        var queries = all.Slice(2000, 100); // more than one chunk per worker
        c.UpsertBatch(Enumerable.Range(1, data.Count).Select(i => (ulong)i).ToArray(), data);
        c.BuildIndex();
        var options = new SearchOptions { K = 10, Rerank = rerank, NProbe = 6 };
        foreach (int threads in new[] { 1, 2 })
            AssertSameAsSearch(c, queries, options, threads);
        // A filter takes the row-by-row path: still the same hits.
        var filtered = options with { Filter = new SearchFilter { Ids = Enumerable.Range(1, 1000).Select(i => (ulong)i).ToHashSet() } };
        AssertSameAsSearch(c, queries, filtered, 2);
    }

    [Theory]
    [InlineData("ram", null, 0.0)]
    [InlineData("disk", null, 0.0)]
    [InlineData("ram", "rq:4", 0.0)]
    [InlineData("ram", null, 0.9)]
    public void ResidencyRefineTargetRecallDeletesAndExtrasAreHonoured(string raw, string? refine, double target)
    {
        var dir = TestData.TempDir();
        using var db = VectorDatabase.Open(dir);
        var c = db.CreateCollection("c", new CollectionOptions
        {
            Dimension = Dim, Metric = Metric.Cosine, Compression = "pq:16x4", Index = "ivf:16", Refine = refine,
            RawVectors = raw == "disk" ? RawVectorResidency.Disk : RawVectorResidency.Ram,
        });
        var all = SyntheticData.Clustered(2070, Dim, seed: 7);
        var ids = Enumerable.Range(1, 2000).Select(i => (ulong)i).ToArray();
        c.UpsertBatch(ids, all.Slice(0, 2000), ids.Select(i => (byte[]?)BitConverter.GetBytes(i)).ToArray());
        c.BuildIndex();
        for (ulong id = 1; id <= 2000; id += 9) c.Delete(id); // after the build: the index drops them
        var options = new SearchOptions { K = 10, Rerank = target > 0 ? 0 : 30, TargetRecall = target, IncludePayload = true, IncludeVector = true };
        var queries = all.Slice(2000, 70);
        var batch = c.SearchBatch(queries, options, 2);
        for (int i = 0; i < queries.Count; i++)
        {
            var one = c.Search(queries.Row(i), options);
            Assert.Equal(one.Select(h => h.Id), batch[i].Select(h => h.Id));
            Assert.Equal(one.Select(h => h.Score), batch[i].Select(h => h.Score));
            Assert.All(batch[i], h => Assert.NotEqual(1UL, h.Id % 9));
            Assert.All(batch[i], h => Assert.Equal(BitConverter.GetBytes(h.Id), h.Payload));
            Assert.All(batch[i], h => Assert.Equal(Dim, h.Vector!.Length));
        }
    }

    [Fact]
    public async Task AsyncBatchEqualsTheSynchronousOneAndHonoursItsToken()
    {
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", new CollectionOptions { Dimension = Dim, Metric = Metric.L2, Compression = "pq:16x4", Index = "flat" });
        var all = SyntheticData.Clustered(1100, Dim, seed: 8);
        c.UpsertBatch(Enumerable.Range(1, 1000).Select(i => (ulong)i).ToArray(), all.Slice(0, 1000));
        c.BuildIndex();
        var queries = all.Slice(1000, 100);
        var options = new SearchOptions { K = 5, Rerank = 20 };
        var sync = c.SearchBatch(queries, options);
        var async = await c.SearchBatchAsync(queries, options);
        for (int i = 0; i < queries.Count; i++) Assert.Equal(sync[i].Select(h => h.Id), async[i].Select(h => h.Id));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => c.SearchBatchAsync(queries, options, 0, cts.Token));
        Assert.Empty(c.SearchBatch(new VectorMatrix(0, Dim), options));
    }

    [Fact]
    public void AClosedCollectionRefusesABatchWithObjectDisposed()
    {
        var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", new CollectionOptions { Dimension = Dim, Metric = Metric.L2, Compression = "pq:16x4", Index = "flat" });
        var all = SyntheticData.Clustered(600, Dim, seed: 9);
        c.UpsertBatch(Enumerable.Range(1, 500).Select(i => (ulong)i).ToArray(), all.Slice(0, 500));
        c.BuildIndex();
        db.Dispose();
        Assert.Throws<ObjectDisposedException>(() => c.SearchBatch(all.Slice(500, 100)));
    }

    [Fact]
    public void AnUntrainedCollectionAnswersExactly()
    {
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", new CollectionOptions { Dimension = Dim, Metric = Metric.L2, Compression = "pq:16x4", Index = "flat" });
        var all = SyntheticData.Clustered(230, Dim, seed: 6);
        c.UpsertBatch(Enumerable.Range(1, 200).Select(i => (ulong)i).ToArray(), all.Slice(0, 200));
        AssertSameAsSearch(c, all.Slice(200, 30), new SearchOptions { K = 5 }, 2);
    }

    [Fact]
    public void ARowWithANonFiniteValueIsNamedAndNothingIsAnswered()
    {
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", new CollectionOptions { Dimension = 4, Metric = Metric.L2, Compression = "none" });
        c.UpsertBatch([1, 2, 3], SyntheticData.Clustered(3, 4, seed: 1));
        var queries = SyntheticData.Clustered(5, 4, seed: 2);
        queries[3][1] = float.NaN;
        var e = Assert.Throws<InvalidVectorException>(() => c.SearchBatch(queries));
        Assert.Contains("query 3", e.Message);
        Assert.Throws<InvalidVectorException>(() => c.SearchBatch(SyntheticData.Clustered(2, 5, seed: 2)));
        Assert.Equal(3, c.SearchBatch(SyntheticData.Clustered(2, 4, seed: 3))[1].Length); // the collection still answers
    }

    private static void AssertSameAsSearch(Collection c, VectorMatrix queries, SearchOptions options, int threads)
    {
        var batch = c.SearchBatch(queries, options, threads);
        Assert.Equal(queries.Count, batch.Length);
        for (int i = 0; i < queries.Count; i++)
        {
            var one = c.Search(queries.Row(i), options);
            Assert.Equal(one.Select(h => h.Id), batch[i].Select(h => h.Id));
            Assert.Equal(one.Select(h => h.Score), batch[i].Select(h => h.Score));
        }
    }
}
