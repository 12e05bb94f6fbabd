using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Indexing;
using VectorStore.Ranking;
using Xunit;

namespace VectorStore.Tests.Collections;

public class CollectionTests
{
    private static Collection NewCollection(string compression = "sq8", Metric metric = Metric.L2, int dim = 32, int threshold = 500)
    {
        var db = VectorDatabase.CreateInMemory();
        return db.CreateCollection("c", new CollectionOptions { Dimension = dim, Metric = metric, Compression = compression, TrainingThreshold = threshold });
    }

    [Fact]
    public void UpsertGetDeleteRoundTrip()
    {
        var c = NewCollection();
        c.Upsert(5, Enumerable.Range(0, 32).Select(i => (float)i).ToArray(), [1, 2, 3]);
        var r = c.Get(5)!;
        Assert.Equal(31f, r.Vector[31]);
        Assert.Equal(new byte[] { 1, 2, 3 }, r.Payload);
        c.Upsert(5, new float[32]);
        Assert.Equal(0f, c.Get(5)!.Vector[31]);
        Assert.Empty(c.Get(5)!.Payload);
        Assert.Equal(1, c.Count);
        Assert.True(c.Delete(5));
        Assert.False(c.Delete(5));
        Assert.Null(c.Get(5));
        Assert.Equal(0, c.Count);
    }

    [Fact]
    public void BadVectorsAreRejectedAndLeaveTheCollectionIntact()
    {
        var c = NewCollection();
        c.Upsert(1, new float[32]);
        Assert.Throws<InvalidVectorException>(() => c.Upsert(2, new float[31]));
        var nan = new float[32];
        nan[7] = float.NaN;
        Assert.Throws<InvalidVectorException>(() => c.Upsert(3, nan));
        var batch = SyntheticData.Clustered(3, 32);
        batch[2][0] = float.PositiveInfinity;
        Assert.Throws<InvalidVectorException>(() => c.UpsertBatch([10, 11, 12], batch));
        Assert.Throws<InvalidArgumentException>(() => c.UpsertBatch([10, 10, 11], SyntheticData.Clustered(3, 32)));
        Assert.Equal(1, c.Count);
        Assert.False(c.Contains(10));
        Assert.Throws<InvalidArgumentException>(() => c.Search(new float[32], new SearchOptions { K = 0 }));
        Assert.Throws<InvalidArgumentException>(() => c.Search(new float[32], new SearchOptions { K = 1_000_000_000 }));
        Assert.Throws<InvalidVectorException>(() => c.Search(new float[5]));
        Assert.Throws<InvalidVectorException>(() => c.Search(nan));
    }

    [Fact]
    public void CosineNormalizesAtInsertAndQuery()
    {
        var c = NewCollection("none", Metric.Cosine, dim: 4);
        c.Upsert(1, [3, 0, 0, 0]);
        c.Upsert(2, [1, 1, 0, 0]);
        var r = c.Get(1)!;
        Assert.Equal(1f, r.Vector[0], 5);
        var hits = c.Search([10, 0, 0, 0], new SearchOptions { K = 2 });
        Assert.Equal(1UL, hits[0].Id);
        Assert.Equal(1f, hits[0].Score, 4);
        Assert.Equal(MathF.Sqrt(0.5f), hits[1].Score, 4);
    }

    [Fact]
    public void SearchIsExactBeforeTrainingAndGoodAfter()
    {
        var data = SyntheticData.Clustered(2000, 32, seed: 11);
        var queries = SyntheticData.Clustered(50, 32, seed: 12);
        var truth = EvalRunner.ExactTruth(data, queries, Metric.L2, 10);
        var c = NewCollection(threshold: 100_000);
        c.UpsertBatch(Enumerable.Range(0, 2000).Select(i => (ulong)i).ToArray(), data);
        Assert.Null(c.Index);
        var before = Enumerable.Range(0, 50).Select(q => c.Search(queries.Row(q)).Select(h => (long)h.Id).ToArray()).ToArray();
        Assert.Equal(1.0, Recall.AtK(before, truth, 10));
        c.BuildIndex();
        Assert.NotNull(c.Index);
        var after = Enumerable.Range(0, 50).Select(q => c.Search(queries.Row(q), new SearchOptions { Rerank = 30 }).Select(h => (long)h.Id).ToArray()).ToArray();
        Assert.True(Recall.AtK(after, truth, 10) >= 0.99);
        var batch = c.SearchBatch(queries, new SearchOptions { Rerank = 30 }, threads: 2);
        Assert.Equal(after, batch.Select(r => r.Select(h => (long)h.Id).ToArray()).ToArray());
    }

    [Fact]
    public void TrainingStartsAtTheThresholdAndLaterInsertsAreIndexed()
    {
        var data = SyntheticData.Clustered(700, 32, seed: 2);
        var c = NewCollection(threshold: 500);
        for (int i = 0; i < 600; i++) c.Upsert((ulong)i, data.Row(i));
        Assert.NotNull(c.Index);
        Assert.Equal(600, c.Index!.Count);
        c.UpsertBatch(Enumerable.Range(600, 100).Select(i => (ulong)i).ToArray(), data.Slice(600, 100));
        Assert.Equal(700, c.Index.Count);
        Assert.Equal(650UL, c.Search(data.Row(650), new SearchOptions { K = 1, Rerank = 10 })[0].Id);
        c.Delete(650);
        Assert.Equal(699, c.Index.Count);
        Assert.NotEqual(650UL, c.Search(data.Row(650), new SearchOptions { K = 1, Rerank = 10 })[0].Id);
    }

    [Fact]
    public void FiltersRestrictResultsByIdAndPayload()
    {
        var data = SyntheticData.Clustered(1000, 32, seed: 3);
        var c = NewCollection(threshold: 100);
        var payloads = Enumerable.Range(0, 1000).Select(i => new byte[] { (byte)(i % 7) }).ToArray();
        c.UpsertBatch(Enumerable.Range(0, 1000).Select(i => (ulong)i).ToArray(), data, payloads);
        var allowed = new HashSet<ulong>(Enumerable.Range(0, 1000).Where(i => i % 10 == 3).Select(i => (ulong)i));
        var hits = c.Search(data.Row(0), new SearchOptions { K = 20, Filter = new SearchFilter { Ids = allowed } });
        Assert.Equal(20, hits.Length);
        Assert.All(hits, h => Assert.Contains(h.Id, allowed));
        var byPayload = c.Search(data.Row(0), new SearchOptions { K = 20, Filter = new SearchFilter { Predicate = (_, p) => p.Span[0] == 4 } });
        Assert.All(byPayload, h => Assert.Equal(4UL, h.Id % 7));
    }

    [Fact]
    public async Task ConcurrentReadersAndWritersSeeConsistentState()
    {
        var data = SyntheticData.Clustered(3000, 32, seed: 4);
        var c = NewCollection(threshold: 1000);
        c.UpsertBatch(Enumerable.Range(0, 1500).Select(i => (ulong)i).ToArray(), data.Slice(0, 1500));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var writer = Task.Run(() =>
        {
            for (int i = 1500; i < 3000 && !cts.IsCancellationRequested; i++)
            {
                c.Upsert((ulong)i, data.Row(i));
                if (i % 3 == 0) c.Delete((ulong)(i - 1000));
            }
        });
        var readers = Enumerable.Range(0, 2).Select(t => Task.Run(() =>
        {
            int n = 0;
            while (!writer.IsCompleted)
            {
                var hits = c.Search(data.Row(n++ % 3000), new SearchOptions { K = 5, Rerank = 10 });
                Assert.InRange(hits.Length, 1, 5);
            }
        })).ToArray();
        await Task.WhenAll([writer, .. readers]);
    }

    [Fact]
    public void InvalidOptionsAreRejectedAtCreation()
    {
        var db = VectorDatabase.CreateInMemory();
        Assert.Throws<InvalidArgumentException>(() => db.CreateCollection("x", new CollectionOptions { Dimension = 0 }));
        Assert.Throws<InvalidArgumentException>(() => db.CreateCollection("x", new CollectionOptions { Dimension = 8, Compression = "zip" }));
        Assert.Throws<InvalidArgumentException>(() => db.CreateCollection("x", new CollectionOptions { Dimension = 8, Index = "lsh" }));
        Assert.Throws<InvalidArgumentException>(() => db.CreateCollection("../evil", new CollectionOptions { Dimension = 8 }));
        db.CreateCollection("x", new CollectionOptions { Dimension = 8 });
        Assert.Throws<InvalidArgumentException>(() => db.CreateCollection("x", new CollectionOptions { Dimension = 8 }));
        Assert.Throws<InvalidArgumentException>(() => db.GetCollection("y"));
    }

    [Fact]
    public void TopKKeepsTheSmallestInOrder()
    {
        var rng = new Random(1);
        var heap = new TopK(10);
        var values = Enumerable.Range(0, 1000).Select(_ => (float)rng.NextDouble()).ToArray();
        for (int i = 0; i < values.Length; i++) heap.Push(i, values[i]);
        var slots = new int[10];
        var dist = new float[10];
        Assert.Equal(10, heap.Drain(slots, dist));
        var expected = values.Select((v, i) => (v, i)).OrderBy(t => t.v).Take(10).Select(t => t.i).ToArray();
        Assert.Equal(expected, slots);
    }
}
