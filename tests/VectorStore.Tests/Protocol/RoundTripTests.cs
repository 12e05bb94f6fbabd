using VectorStore.Client;
using VectorStore.Collections;
using VectorStore.Evaluation;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// Every operation over TCP returns exactly what the in-process call returns. Mutations go to the served database
/// through the client and to an identical in-process twin directly; reads are compared between the two.
/// </summary>
public class RoundTripTests
{
    private static void SameHits(SearchHit[] expected, SearchHit[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Id, actual[i].Id);
            Assert.Equal(BitConverter.SingleToInt32Bits(expected[i].Score), BitConverter.SingleToInt32Bits(actual[i].Score));
        }
    }

    private static void SameRecord(VectorRecord? expected, VectorRecord? actual)
    {
        if (expected is null)
        {
            Assert.Null(actual);
            return;
        }
        Assert.NotNull(actual);
        Assert.Equal(expected.Id, actual!.Id);
        Assert.Equal(expected.Vector, actual.Vector);
        Assert.Equal(expected.Payload, actual.Payload);
    }

    [Theory]
    [InlineData("none", Metric.L2)]
    [InlineData("sq8", Metric.Cosine)]
    [InlineData("sq8", Metric.InnerProduct)]
    public async Task EveryOperationMatchesInProcess(string compression, Metric metric)
    {
        const int dim = 24;
        using var local = VectorDatabase.CreateInMemory();
        await using var live = LiveServer.Start();
        await using var client = await live.ConnectAsync();

        var options = new CollectionOptions { Dimension = dim, Metric = metric, Compression = compression, TrainingThreshold = 500, Seed = 3 };
        local.CreateCollection("c", options);
        await client.CreateCollectionAsync("c", options);
        local.CreateCollection("other", options with { Dimension = 3 });
        await client.CreateCollectionAsync("other", options with { Dimension = 3 });
        Assert.Equal(local.CollectionNames, await client.CollectionNamesAsync());

        var data = SyntheticData.Clustered(1200, dim, seed: 11);
        var ids = Enumerable.Range(0, data.Count).Select(i => (ulong)(i * 7 + 3)).ToArray();
        var payloads = ids.Select(id => id % 3 == 0 ? null : new byte[] { (byte)id, (byte)(id >> 8), 42 }).ToArray();
        // Two batches: the first stays below the training threshold (exact scans), the second trains the index.
        var lc = local.GetCollection("c");
        for (int start = 0; start < data.Count; start += 400)
        {
            var slice = data.Slice(start, 400);
            var sid = ids[start..(start + 400)];
            var sp = payloads[start..(start + 400)];
            lc.UpsertBatch(sid, slice, sp);
            await client.UpsertBatchAsync("c", sid, slice, sp);

            var probe = data.Slice(start, 5);
            for (int q = 0; q < probe.Count; q++)
                SameHits(lc.Search(probe.Row(q), new SearchOptions { K = 7 }), await client.SearchAsync("c", probe.Row(q).ToArray(), new SearchOptions { K = 7 }));
        }
        lc.Upsert(5, data.Row(0), [1, 2, 3]);
        await client.UpsertAsync("c", 5, data.Row(0).ToArray(), [1, 2, 3]);

        Assert.Equal(lc.Count, await client.CountAsync("c"));
        var info = await client.GetInfoAsync("c");
        Assert.Equal(lc.Options, info.Options);
        Assert.Equal(lc.GetStats(), info.Stats);
        Assert.Equal(lc.Ids(), await client.IdsAsync("c"));

        foreach (var id in new ulong[] { 3, 5, 10, 4, 3 + 7 * 1199, 999_999 })
            SameRecord(lc.Get(id), await client.GetAsync("c", id));
        var some = ids.Take(50).Append(123456UL).ToArray();
        var batch = await client.GetBatchAsync("c", some);
        for (int i = 0; i < some.Length; i++) SameRecord(lc.Get(some[i]), batch[i]);

        var queries = SyntheticData.Clustered(40, dim, seed: 99);
        var variants = new[]
        {
            new SearchOptions { K = 1 },
            new SearchOptions { K = 10, Rerank = 50 },
            new SearchOptions { K = 25, Ef = 64, NProbe = 4 },
            new SearchOptions { K = 5000 },
            new SearchOptions { K = 10, Filter = new SearchFilter { Ids = ids.Where(i => i % 2 == 1).ToHashSet() } },
        };
        foreach (var so in variants)
        {
            var expected = lc.SearchBatch(queries, so);
            var actual = await client.SearchBatchAsync("c", queries, so);
            Assert.Equal(expected.Length, actual.Length);
            for (int q = 0; q < expected.Length; q++) SameHits(expected[q], actual[q]);
            SameHits(lc.Search(queries.Row(3), so), await client.SearchAsync("c", queries.Row(3).ToArray(), so));
        }

        var toDelete = new ulong[] { 3, 10, 17, 424242 };
        foreach (var id in toDelete.Take(2)) Assert.Equal(lc.Delete(id), await client.DeleteAsync("c", id));
        Assert.Equal(toDelete.Skip(2).Select(lc.Delete).ToArray(), await client.DeleteBatchAsync("c", toDelete.Skip(2).ToArray()));
        Assert.Equal(lc.Ids(), await client.IdsAsync("c"));
        SameHits(lc.Search(queries.Row(0), new SearchOptions { K = 10 }), await client.SearchAsync("c", queries.Row(0).ToArray(), new SearchOptions { K = 10 }));

        lc.BuildIndex();
        await client.BuildIndexAsync("c");
        Assert.Equal(lc.GetStats(), await client.GetStatsAsync("c"));
        Assert.Equal(LiveServer.ExportChecksum(local), LiveServer.ExportChecksum(live.Database));

        Assert.Equal(local.DropCollection("other"), await client.DropCollectionAsync("other"));
        Assert.Equal(local.DropCollection("other"), await client.DropCollectionAsync("other"));
        Assert.Equal(local.CollectionNames, await client.CollectionNamesAsync());
    }

    [Fact]
    public async Task ErrorsAreTheSameTypedExceptionsAsInProcess()
    {
        await using var live = LiveServer.Start();
        var c = LiveServer.Populate(live.Database, "c", 300, 8, train: false);
        await using var client = await live.ConnectAsync();

        async Task Same(Action local, Func<Task> remote)
        {
            var expected = Assert.ThrowsAny<VectorStoreException>(local);
            var actual = await Assert.ThrowsAnyAsync<VectorStoreException>(remote);
            Assert.Equal(expected.GetType(), actual.GetType());
            Assert.Equal(expected.Message, actual.Message);
        }

        await Same(() => c.Search(new float[7]), () => client.SearchAsync("c", new float[7]));
        await Same(() => c.Search(new float[8], new SearchOptions { K = 0 }), () => client.SearchAsync("c", new float[8], new SearchOptions { K = 0 }));
        await Same(() => c.Upsert(1, [1, 2, 3, 4, 5, 6, 7, float.NaN]), () => client.UpsertAsync("c", 1, new float[] { 1, 2, 3, 4, 5, 6, 7, float.NaN }));
        await Same(() => c.UpsertBatch([1, 1], new VectorMatrix(16, 8)), () => client.UpsertBatchAsync("c", [1, 1], new VectorMatrix(16, 8)));
        await Same(() => live.Database.GetCollection("nope"), () => client.CountAsync("nope"));
        await Same(() => live.Database.CreateCollection("c", new CollectionOptions { Dimension = 8 }),
            () => client.CreateCollectionAsync("c", new CollectionOptions { Dimension = 8 }));
        await Same(() => live.Database.CreateCollection("x", new CollectionOptions { Dimension = 8, Compression = "bogus" }),
            () => client.CreateCollectionAsync("x", new CollectionOptions { Dimension = 8, Compression = "bogus" }));
        // Beyond the protocol's k limit the server refuses before any work; in-process the same k is an argument error.
        await Assert.ThrowsAsync<LimitExceededException>(() => client.SearchAsync("c", new float[8], new SearchOptions { K = 1_000_000_000 }));
        await Assert.ThrowsAsync<VectorStore.Client.RemoteErrorException>(() => client.FlushAsync());
    }

    [SkippableFact]
    public async Task RealSiftSearchesMatchInProcess()
    {
        var ds = TestData.RequireShared(TestData.Sift, maxBase: 3000, maxQueries: 100);
        await using var live = LiveServer.Start();
        var c = live.Database.CreateCollection("sift", new CollectionOptions { Dimension = ds.Base.Dimension, Metric = Metric.L2, Compression = "sq8" });
        await using var client = await live.ConnectAsync();
        var ids = Enumerable.Range(0, ds.Base.Count).Select(i => (ulong)i).ToArray();
        await client.UpsertBatchAsync("sift", ids, ds.Base);
        await client.BuildIndexAsync("sift");
        var so = new SearchOptions { K = 10, Rerank = 40 };
        var expected = c.SearchBatch(ds.Queries, so);
        var actual = await client.SearchBatchAsync("sift", ds.Queries, so);
        for (int q = 0; q < expected.Length; q++) SameHits(expected[q], actual[q]);
    }
}
