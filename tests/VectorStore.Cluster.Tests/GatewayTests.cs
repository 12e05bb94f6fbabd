using VectorStore.Client;
using VectorStore.Collections;
using VectorStore.Server;
using Xunit;

namespace VectorStore.Cluster.Tests;

/// <summary>
/// Item 5 over TCP: the unchanged protocol server in front of the cluster (<see cref="ClusterDatabaseClient"/>), and
/// the unchanged thin client, answer every <see cref="IVectorDatabaseClient"/> call as a single embedded node does.
/// </summary>
[Collection(ThreeSilos.Name)]
[Trait("Category", "Cluster")]
public class GatewayTests(ThreeSiloFixture fixture)
{
    private ClusterHarness H => fixture.Harness;

    private static async Task<(VectorStoreServer Server, VectorStoreClient Client)> GatewayAsync(DistributedDatabase db)
    {
        var server = new VectorStoreServer(new ClusterDatabaseClient(db, shards: 6, replicationFactor: 2));
        server.Start();
        return (server, await VectorStoreClient.ConnectAsync("127.0.0.1", server.LocalEndPoint!.Port));
    }

    [Fact]
    public async Task GatewayAnswersEveryCallAsASingleNode()
    {
        var (server, remote) = await GatewayAsync(H.Database());
        await using var _s = server;
        await using var _c = remote;
        // On disk, as every shard is (the reported raw-vector residency depends on it).
        await using var local = new InProcessDatabaseClient(VectorDatabase.Open(Path.Combine(H.Root, "single-" + Guid.NewGuid().ToString("N"))), ownsDatabase: true);
        var data = ClusterTestData.Random(1500, 16, seed: 11);
        var ids = Enumerable.Range(0, 1500).Select(i => (ulong)i * 3 + 7).ToArray();
        var payloads = ids.Select(id => id % 4 == 0 ? null : BitConverter.GetBytes(id)).ToArray();
        // Exact search (none + flat): the merged shards' hits equal a single node's bit for bit.
        var options = new CollectionOptions { Dimension = 16, Metric = Metric.Cosine, Compression = "none", Index = "flat" };
        var queries = data.Slice(100, 30);
        var so = new SearchOptions { K = 10 };

        async Task<object[]> Script(IVectorDatabaseClient db)
        {
            await db.CreateCollectionAsync("gw", options);
            await db.UpsertBatchAsync("gw", ids[..700], data.Slice(0, 700), payloads[..700]);
            await db.UpsertBatchAsync("gw", ids[700..], data.Slice(700, 800), payloads[700..]);
            var single = await db.SearchAsync("gw", queries.RowMemory(0), so);
            var batch = await db.SearchBatchAsync("gw", queries, so);
            var filtered = await db.SearchAsync("gw", queries.RowMemory(1), new SearchOptions { K = 5, Filter = new SearchFilter { Ids = ids.Where((_, i) => i % 7 == 0).ToHashSet() } });
            var got = await db.GetBatchAsync("gw", [ids[0], 4, ids[1499], ids[3], ids[3]]);
            var deleted = await db.DeleteBatchAsync("gw", [ids[1], 4, ids[1] + 1, ids[2]]);
            var pages = new List<IdPage>();
            ulong? after = null;
            do
            {
                pages.Add(await db.ListIdsAsync("gw", after, 600));
                after = pages[^1].Ids.Length > 0 ? pages[^1].Ids[^1] : null;
            } while (pages[^1].More);
            await db.FlushAsync();
            await db.CompactAsync("gw");
            var info = await db.GetInfoAsync("gw");
            var names = await db.CollectionNamesAsync();
            var afterDelete = await db.SearchBatchAsync("gw", queries, so);
            return [single, batch, filtered, got, deleted, pages, info, names, afterDelete];
        }

        var l = await Script(local);
        var r = await Script(remote);
        // A cluster's merged hits carry the generation that answered, as a single node's do (every shard numbers
        // generations as the layout does).
        static SearchHit[] Plain(object hits) => (SearchHit[])hits;
        static SearchHit[][] PlainBatch(object hits) => (SearchHit[][])hits;
        try
        {
            Assert.Equal(Plain(l[0]), (SearchHit[])r[0]);
            Assert.Equal(PlainBatch(l[1]), (SearchHit[][])r[1]);
            Assert.Equal(5, ((SearchHit[])l[2]).Length);
            Assert.Equal(Plain(l[2]), (SearchHit[])r[2]);
            var gl = (IReadOnlyList<VectorRecord?>)l[3];
            var gr = (IReadOnlyList<VectorRecord?>)r[3];
            Assert.Equal(5, gr.Count);
            Assert.Null(gr[1]);
            foreach (int i in new[] { 0, 2, 3, 4 })
            {
                Assert.Equal(gl[i]!.Id, gr[i]!.Id);
                Assert.Equal(gl[i]!.Vector, gr[i]!.Vector);
                Assert.Equal(gl[i]!.Payload, gr[i]!.Payload);
            }
            Assert.Equal([true, false, false, true], (bool[])r[4]);
            var pl = (List<IdPage>)l[5];
            var pr = (List<IdPage>)r[5];
            Assert.Equal(3, pr.Count);
            Assert.Equal(pl.Select(p => p.More), pr.Select(p => p.More));
            Assert.Equal(pl.SelectMany(p => p.Ids), pr.SelectMany(p => p.Ids));
            var il = (CollectionInfo)l[6];
            var ir = (CollectionInfo)r[6];
            Assert.Equal(il.Options, ir.Options);
            Assert.Equal(1498, ir.Stats.Count);
            Assert.Equal(16, ir.Stats.Dimension);
            Assert.True(ir.BytesOnDisk > 0);
            Assert.Contains("gw", (IReadOnlyList<string>)r[7]);
            Assert.Equal(PlainBatch(l[8]), (SearchHit[][])r[8]);
        }
        finally
        {
            Assert.True(await remote.DropCollectionAsync("gw"));
        }
        Assert.False(await remote.DropCollectionAsync("gw"));
        Assert.DoesNotContain("gw", await remote.CollectionNamesAsync());
    }

    /// <summary>
    /// Fields through the gateway: declared at create, values on upsert and get, field filters in searches and in
    /// filtered id listings (protocol version 6), hit parts; a bad value or filter is the engine's typed error.
    /// </summary>
    [Fact]
    public async Task GatewayCarriesFieldsFiltersAndHitParts()
    {
        var (server, remote) = await GatewayAsync(H.Database());
        await using var _s = server;
        await using var _c = remote;
        var options = new CollectionOptions { Dimension = 4, Metric = Metric.L2, Compression = "none", Fields = SearchTests.Fields };
        await remote.CreateCollectionAsync("gw-fields", options);
        try
        {
            var single = VectorDatabase.CreateInMemory().CreateCollection("gw-fields", options);
            var ids = ClusterTestData.Ids(300);
            var data = ClusterTestData.Random(300, 4, seed: 5);
            var fields = ids.Select(SearchTests.FieldsOf).ToArray();
            await remote.UpsertBatchAsync("gw-fields", ids, data, null, fields);
            single.UpsertBatch(ids, data, null, fields);
            Assert.Equal(options.Fields, (await remote.GetInfoAsync("gw-fields")).Options.Fields);
            foreach (var text in SearchTests.Wheres)
            {
                var where = Filtering.FilterParser.Parse(text);
                var o = new SearchOptions { K = 7, Filter = new SearchFilter { Where = where }, IncludeFields = true };
                var expected = single.Search(data.Row(3), o);
                var got = await remote.SearchAsync("gw-fields", data.Row(3).ToArray(), o);
                Assert.Equal(expected.Select(h => (h.Id, h.Score)), got.Select(h => (h.Id, h.Score)));
                for (int i = 0; i < got.Length; i++) Assert.Equal(expected[i].Fields!.OrderBy(p => p.Key), got[i].Fields!.OrderBy(p => p.Key));
                Assert.Equal(single.Ids(where), (await remote.ListMatchingIdsAsync("gw-fields", where, null, 1000)).Ids);
            }
            var record = (await remote.GetBatchAsync("gw-fields", [10]))[0]!;
            Assert.Equal(SearchTests.FieldsOf(10).OrderBy(p => p.Key), record.Fields.OrderBy(p => p.Key));
            await Assert.ThrowsAsync<InvalidArgumentException>(() => remote.UpsertBatchAsync("gw-fields", [1], new VectorMatrix(new float[] { 1, 0, 0, 0 }, 4), null,
                [new Dictionary<string, Filtering.FieldValue> { ["nope"] = "lib" }]));
            var e = await Assert.ThrowsAsync<InvalidArgumentException>(() => remote.SearchAsync("gw-fields", new float[] { 1, 0, 0, 0 },
                new SearchOptions { Filter = new SearchFilter { Where = Filtering.FilterParser.Parse("nope == 'lib'") } }));
            Assert.Contains("unknown field 'nope'", e.Message, StringComparison.Ordinal);
            Assert.Equal(300, (await remote.GetInfoAsync("gw-fields")).Stats.Count);
        }
        finally
        {
            await remote.DropCollectionAsync("gw-fields");
        }
    }

    /// <summary>
    /// Item 5's "address list": a client given two gateways of the cluster keeps answering from the same data when
    /// the one it uses stops, and its write through the first is read through the second.
    /// </summary>
    [Fact]
    public async Task AClientWithTwoGatewaysOutlivesOne()
    {
        var db = H.Database();
        var first = new VectorStoreServer(new ClusterDatabaseClient(db, shards: 6, replicationFactor: 2));
        await using var second = new VectorStoreServer(new ClusterDatabaseClient(db, shards: 6, replicationFactor: 2));
        first.Start();
        second.Start();
        await using var client = await VectorStoreClient.ConnectAsync($"127.0.0.1:{first.LocalEndPoint!.Port},127.0.0.1:{second.LocalEndPoint!.Port}");
        await client.CreateCollectionAsync("gw-two", new CollectionOptions { Dimension = 4, Metric = Metric.L2, Compression = "none" });
        try
        {
            var data = ClusterTestData.Random(200, 4, seed: 8);
            await client.UpsertBatchAsync("gw-two", ClusterTestData.Ids(200), data);
            var before = await client.SearchAsync("gw-two", data.Row(7).ToArray(), new SearchOptions { K = 5 });
            Assert.Equal(first.LocalEndPoint!.Port, client.CurrentEndpoint.Port);
            await first.DisposeAsync();
            var after = await client.SearchAsync("gw-two", data.Row(7).ToArray(), new SearchOptions { K = 5 });
            Assert.Equal(second.LocalEndPoint!.Port, client.CurrentEndpoint.Port);
            Assert.Equal(before.Select(h => (h.Id, h.Score)), after.Select(h => (h.Id, h.Score)));
            Assert.Equal(200, (await client.GetInfoAsync("gw-two")).Stats.Count);
        }
        finally
        {
            await client.DropCollectionAsync("gw-two");
        }
    }

    [Fact]
    public async Task GatewayRaisesTheEngineTypedErrors()
    {
        var (server, remote) = await GatewayAsync(H.Database());
        await using var _s = server;
        await using var _c = remote;
        await remote.CreateCollectionAsync("gw-errors", new CollectionOptions { Dimension = 4, Metric = Metric.L2, Compression = "none" });
        try
        {
            await Assert.ThrowsAsync<InvalidArgumentException>(() => remote.CreateCollectionAsync("gw-errors", new CollectionOptions { Dimension = 4 }));
            await Assert.ThrowsAsync<InvalidArgumentException>(() => remote.GetInfoAsync("missing"));
            await Assert.ThrowsAsync<InvalidArgumentException>(() => remote.SearchAsync("missing", new float[4]));
            await Assert.ThrowsAsync<InvalidVectorException>(() => remote.UpsertBatchAsync("gw-errors", [1], new VectorMatrix(new float[] { 1, float.NaN, 0, 0 }, 4)));
            await Assert.ThrowsAsync<InvalidVectorException>(() => remote.SearchAsync("gw-errors", new float[3]));
            await Assert.ThrowsAsync<InvalidArgumentException>(() => remote.UpsertBatchAsync("gw-errors", [1, 1], new VectorMatrix(2, 4)));
            Assert.Equal(0, (await remote.GetInfoAsync("gw-errors")).Stats.Count);
        }
        finally
        {
            await remote.DropCollectionAsync("gw-errors");
        }
    }

    [Fact]
    public async Task PartialSearchIsRefusedAsUnavailableNeverShort()
    {
        // A coordinator whose shard deadline nothing can meet: every search would be partial.
        var (server, remote) = await GatewayAsync(H.Database(new ClusterCoordinatorOptions { ShardTimeout = TimeSpan.FromTicks(1) }));
        await using var _s = server;
        await using var _c = remote;
        await remote.CreateCollectionAsync("gw-partial", new CollectionOptions { Dimension = 4, Metric = Metric.L2, Compression = "none" });
        try
        {
            await remote.UpsertBatchAsync("gw-partial", [1, 2, 3], new VectorMatrix(new float[12], 4));
            var e = await Assert.ThrowsAsync<UnavailableException>(() => remote.SearchAsync("gw-partial", new float[4]));
            Assert.Contains("partial", e.Message);
            await Assert.ThrowsAsync<UnavailableException>(() => remote.SearchBatchAsync("gw-partial", new VectorMatrix(2, 4)));
        }
        finally
        {
            await remote.DropCollectionAsync("gw-partial");
        }
    }

    [Fact]
    public async Task TheCompressionLifecycleRunsThroughTheGateway()
    {
        // The thin client's lifecycle calls (protocol version 5 and later) reach the cluster as they reach one node.
        var (server, remote) = await GatewayAsync(H.Database());
        await using var _s = server;
        await using var _c = remote;
        var data = ClusterTestData.Random(2000, 16, seed: 61);
        await remote.CreateCollectionAsync("gw-life", new CollectionOptions { Dimension = 16, Metric = Metric.L2, Compression = "sq8", TrainingThreshold = 1_000_000, MaxTrainingSample = 300 });
        try
        {
            var ids = ClusterTestData.Ids(2000);
            await remote.UpsertBatchAsync("gw-life", ids, data);
            // Untrained: a generation needs a trained collection, and says so.
            var untrained = await Assert.ThrowsAsync<InvalidArgumentException>(() => remote.BuildGenerationAsync("gw-life", "pq:4", "flat"));
            Assert.Contains("not trained", untrained.Message);
            await remote.BuildIndexAsync("gw-life");
            int g = await remote.BuildGenerationAsync("gw-life", "pq:4", "ivf:4");
            Assert.Equal(2, g);
            var list = await remote.ListGenerationsAsync("gw-life");
            Assert.Equal([(1, Lifecycle.GenerationState.Live, true), (2, Lifecycle.GenerationState.Candidate, true)], list.Select(x => (x.Generation, x.State, x.Ready)));
            var canary = await remote.RunCanaryAsync("gw-life", g, data.Slice(0, 10), new SearchOptions { K = 5 });
            Assert.Equal(10, canary.Queries);
            await remote.PromoteAsync("gw-life", g);
            var hits = await remote.SearchAsync("gw-life", data.RowMemory(3), new SearchOptions { K = 1, NProbe = 4, Rerank = 20 });
            Assert.Equal((ids[3], g), (hits[0].Id, hits[0].Generation));
            Assert.Equal("pq:4", (await remote.GetInfoAsync("gw-life")).Stats.Compression);
            var drift = await remote.GetDriftAsync("gw-life");
            Assert.Equal(g, drift.Generation);
            Assert.Equal(1, await remote.RollbackAsync("gw-life"));
            Assert.Equal(1, (await remote.SearchAsync("gw-life", data.RowMemory(3), new SearchOptions { K = 1 }))[0].Generation);
            // A policy with an automatic rollback floor is refused with the protocol's NotSupported, not an internal error.
            var refused = await Assert.ThrowsAsync<RemoteErrorException>(() => remote.SetLifecyclePolicyAsync("gw-life", new Lifecycle.LifecyclePolicy { RollbackRecallFloor = 0.9 }));
            Assert.Equal(Protocol.ErrorCode.NotSupported, refused.Code);
            var kept = new Lifecycle.LifecyclePolicy { RetainRetired = 3, CanaryRate = 0.5 };
            await remote.SetLifecyclePolicyAsync("gw-life", kept);
            Assert.Equal(kept, await remote.GetLifecyclePolicyAsync("gw-life"));
        }
        finally
        {
            await remote.DropCollectionAsync("gw-life");
        }
    }
}
