using Microsoft.Extensions.DependencyInjection;
using VectorStore.Cluster.Hosting;
using VectorStore.Collections;
using Xunit;
using Xunit.Abstractions;

namespace VectorStore.Cluster.Tests;

/// <summary>Steps 4 and 5: scatter-gather search equals a single node; every shard scores with the same codec.</summary>
[Collection(ThreeSilos.Name)]
[Trait("Category", "Cluster")]
public class SearchTests(ThreeSiloFixture fixture, ITestOutputHelper output)
{
    private ClusterHarness H => fixture.Harness;

    private static async Task<(DistributedCollection Cluster, Collection Single)> LoadBothAsync(
        ClusterHarness h, string name, CollectionOptions options, VectorMatrix data, int shards = 6)
    {
        var cluster = await h.Database().CreateCollectionAsync(name, options, shards: shards, replicationFactor: 2);
        var single = VectorDatabase.CreateInMemory().CreateCollection(name, options);
        var ids = ClusterTestData.Ids(data.Count);
        for (int i = 0; i < data.Count; i += 1000)
        {
            int n = Math.Min(1000, data.Count - i);
            var part = data.Slice(i, n);
            await cluster.UpsertBatchAsync(ids[i..(i + n)], part);
            single.UpsertBatch(ids[i..(i + n)], part);
        }
        return (cluster, single);
    }

    private static void AssertSameHits(SearchHit[][] expected, ClusterSearchResult[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int q = 0; q < expected.Length; q++)
        {
            Assert.False(actual[q].IsPartial);
            // Ids and scores, bit for bit, in order (each hit's generation is its shard's; LifecycleTests checks it).
            Assert.Equal(expected[q].Select(h => (h.Id, h.Score)), actual[q].Hits.Select(h => (h.Id, h.Score)));
        }
    }

    [SkippableFact]
    public async Task ExactSearchOnTheTextSetReturnsTheSingleNodesHitsInOrder()
    {
        var (data, queries) = ClusterTestData.RequireTextSet(10_000, 100);
        var options = new CollectionOptions { Dimension = data.Dimension, Metric = Metric.Cosine, Compression = "none", Index = "flat", TrainingThreshold = 1_000_000, MaxTrainingSample = 1_500 };
        var (cluster, single) = await LoadBothAsync(H, "exact-text", options, data);
        foreach (int k in new[] { 10, 100 })
            AssertSameHits(single.SearchBatch(queries, new SearchOptions { K = k }, threads: 1), await cluster.SearchBatchAsync(queries, new SearchOptions { K = k }));
        // Trained (the flat index over float32 codes) on both sides: still identical.
        single.BuildIndex();
        await cluster.BuildIndexAsync();
        AssertSameHits(single.SearchBatch(queries, new SearchOptions { K = 10 }, threads: 1), await cluster.SearchBatchAsync(queries, new SearchOptions { K = 10 }));
        await H.Database().DropCollectionAsync("exact-text");
    }

    [Fact]
    public async Task ExactSearchWithFiltersReturnsTheSingleNodesHitsInOrder()
    {
        var data = ClusterTestData.Random(3000, 24, seed: 11);
        var queries = ClusterTestData.Random(20, 24, seed: 12);
        var options = new CollectionOptions { Dimension = 24, Metric = Metric.L2, Compression = "none", Index = "flat", TrainingThreshold = 1_000_000 };
        var (cluster, single) = await LoadBothAsync(H, "exact-filters", options, data, shards: 5);
        var idSet = Enumerable.Range(0, 3000).Where(i => i % 7 == 0).Select(i => (ulong)i + 1).ToHashSet();
        var filters = new SearchFilter?[]
        {
            null,
            new() { Ids = idSet },
            new() { Predicate = (id, _) => id % 3 == 1 },
            new() { Ids = idSet, Predicate = (id, _) => id % 2 == 0 },
        };
        foreach (var f in filters)
        {
            var o = new SearchOptions { K = 15, Filter = f };
            AssertSameHits(single.SearchBatch(queries, o, threads: 1), await cluster.SearchBatchAsync(queries, o));
        }
        // The synchronous surface: the same hits, not a partial result.
        Assert.Equal(single.Search(queries.Row(0)).Select(h => (h.Id, h.Score)), cluster.Search(queries.Row(0)).Select(h => (h.Id, h.Score)));
        await H.Database().DropCollectionAsync("exact-filters");
    }

    internal static readonly VectorStore.Filtering.FieldDefinition[] Fields =
        [.. new[] { "kind:keyword", "size:int", "labels:tags" }.Select(VectorStore.Filtering.FieldDefinition.Parse)];

    /// <summary>Field values for record <paramref name="id"/>: some records lack some fields on purpose.</summary>
    internal static IReadOnlyDictionary<string, VectorStore.Filtering.FieldValue> FieldsOf(ulong id)
    {
        var f = new Dictionary<string, VectorStore.Filtering.FieldValue>();
        if (id % 5 != 0) f["kind"] = new[] { "lib", "app", "doc" }[id % 3];
        if (id % 4 != 0) f["size"] = (long)(id % 17) - 8;
        if (id % 3 != 0) f["labels"] = VectorStore.Filtering.FieldValue.Tags(id % 2 == 0 ? ["x", "y"] : ["y"]);
        return f;
    }

    internal static readonly string[] Wheres =
        ["kind == 'lib'", "size > 2 and kind != 'doc'", "labels contains 'x' or size <= -6", "not exists(kind)", "kind in ('app', 'doc') and not labels contains 'x'", "size > 100"];

    /// <summary>
    /// Declared fields through the cluster: field filters in searches (exact, so hits equal a single node's bit for bit),
    /// filtered id listings, field values on gets and as hit parts (with payloads and vectors), before and after every
    /// shard is rebuilt by training (which copies each record, fields included, into the trained collection); a filter
    /// the fields cannot answer is the engine's clear error, not an unavailable shard.
    /// </summary>
    [Fact]
    public async Task FieldFiltersListingsAndHitPartsEqualASingleNode()
    {
        var options = new CollectionOptions { Dimension = 16, Metric = Metric.L2, Compression = "none", Index = "flat", TrainingThreshold = 1_000_000, Fields = Fields };
        var cluster = await H.Database().CreateCollectionAsync("fields", options, shards: 5, replicationFactor: 2);
        var single = VectorDatabase.CreateInMemory().CreateCollection("fields", options);
        var data = ClusterTestData.Random(2000, 16, seed: 21);
        var queries = ClusterTestData.Random(12, 16, seed: 22);
        var ids = ClusterTestData.Ids(data.Count);
        var fields = ids.Select(FieldsOf).ToArray();
        var payloads = ids.Select(id => System.Text.Encoding.UTF8.GetBytes($"p{id}")).ToArray();
        for (int i = 0; i < data.Count; i += 500)
        {
            await cluster.UpsertBatchAsync(ids[i..(i + 500)], data.Slice(i, 500), payloads[i..(i + 500)], fields[i..(i + 500)]);
            single.UpsertBatch(ids[i..(i + 500)], data.Slice(i, 500), payloads[i..(i + 500)], fields[i..(i + 500)]);
        }
        for (int round = 0; round < 2; round++)
        {
            foreach (var text in Wheres)
            {
                var where = VectorStore.Filtering.FilterParser.Parse(text);
                var o = new SearchOptions { K = 12, Filter = new SearchFilter { Where = where } };
                AssertSameHits(single.SearchBatch(queries, o, threads: 1), await cluster.SearchBatchAsync(queries, o));
                Assert.Equal(single.Ids(where), (await cluster.ListIdsAsync(null, 100_000, where)).Ids);
            }
            var parts = new SearchOptions { K = 5, Filter = new SearchFilter { Where = VectorStore.Filtering.FilterParser.Parse(Wheres[1]) }, IncludeFields = true, IncludePayload = true, IncludeVector = true };
            var expected = single.Search(queries.Row(0), parts);
            var got = (await cluster.SearchAsync(queries.Row(0).ToArray(), parts)).Hits;
            Assert.Equal(expected.Select(h => h.Id), got.Select(h => h.Id));
            for (int i = 0; i < got.Length; i++)
            {
                Assert.Equal(expected[i].Fields!.OrderBy(p => p.Key), got[i].Fields!.OrderBy(p => p.Key));
                Assert.Equal(expected[i].Payload, got[i].Payload);
                Assert.Equal(expected[i].Vector, got[i].Vector);
            }
            var records = await cluster.GetBatchAsync([1, 2, 5, 60, 999_999]);
            for (int i = 0; i < 4; i++) Assert.Equal(single.Get(records[i]!.Id)!.Fields.OrderBy(p => p.Key), records[i]!.Fields.OrderBy(p => p.Key));
            Assert.Null(records[4]);
            // Training rebuilds every shard's collection from its records: fields must come along.
            if (round == 0) await cluster.BuildIndexAsync();
        }
        var e = await Assert.ThrowsAsync<InvalidArgumentException>(() => cluster.SearchAsync(queries.Row(0).ToArray(),
            new SearchOptions { Filter = new SearchFilter { Where = VectorStore.Filtering.FilterParser.Parse("colour == 'red'") } }));
        Assert.Contains("unknown field 'colour'", e.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidArgumentException>(() => cluster.ListIdsAsync(null, 10, VectorStore.Filtering.FilterParser.Parse("kind > 3")));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => cluster.UpsertBatchAsync([7], data.Slice(0, 1), null,
            [new Dictionary<string, VectorStore.Filtering.FieldValue> { ["size"] = "big" }]));
        await H.Database().DropCollectionAsync("fields");
    }

    [SkippableFact]
    public async Task ShardedRecallAt10IsWithinHalfAPercentOfASingleNode()
    {
        var (data, queries) = ClusterTestData.RequireTextSet(10_000, 200);
        var truthCollection = VectorDatabase.CreateInMemory().CreateCollection("truth", new CollectionOptions { Dimension = data.Dimension, Compression = "none" });
        truthCollection.UpsertBatch(ClusterTestData.Ids(data.Count), data);
        var truth = truthCollection.SearchBatch(queries, new SearchOptions { K = 10 }, threads: 1);

        // A sample no larger than the smallest shard (about 1,600 here) is what the cluster trains on without deletes;
        // the single node gets the same MaxTrainingSample.
        var options = new CollectionOptions { Dimension = data.Dimension, Metric = Metric.Cosine, Compression = "sq8", Index = "flat", TrainingThreshold = 1_000_000, MaxTrainingSample = 1_500 };
        var (cluster, single) = await LoadBothAsync(H, "recall-text", options, data);
        single.BuildIndex();
        await cluster.BuildIndexAsync();
        var search = new SearchOptions { K = 10 };
        double singleRecall = Recall(truth, single.SearchBatch(queries, search, threads: 1));
        var sharded = await cluster.SearchBatchAsync(queries, search);
        Assert.All(sharded, r => Assert.False(r.IsPartial));
        double clusterRecall = Recall(truth, sharded.Select(r => r.Hits).ToArray());
        output.WriteLine($"recall@10 sq8 flat rerank 0, 10k x 384, 200 queries: single node {singleRecall:F4}, 6 shards on 3 silos {clusterRecall:F4}");
        Assert.InRange(singleRecall, 0.9, 1.0);
        Assert.True(Math.Abs(clusterRecall - singleRecall) <= 0.005, $"cluster {clusterRecall:F4} vs single {singleRecall:F4}");
        await H.Database().DropCollectionAsync("recall-text");
    }

    [Fact]
    public async Task EveryShardScoresWithTheSameTrainedCodec()
    {
        const int dim = 32;
        var data = ClusterTestData.Random(3000, dim, seed: 21);
        var cluster = await H.Database().CreateCollectionAsync("codec", new CollectionOptions { Dimension = dim, Metric = Metric.L2, Compression = "sq8", TrainingThreshold = 1_000_000, MaxTrainingSample = 400 }, shards: 6, replicationFactor: 2);
        await cluster.UpsertBatchAsync(ClusterTestData.Ids(3000), data);
        await cluster.BuildIndexAsync();
        var layout = await cluster.GetLayoutAsync();
        Assert.Equal(1, layout.TrainingGeneration);

        // One probe vector under ids that land on every shard: with rerank 0 a hit's score is the codec's estimate,
        // so equal scores for equal vectors on different shards (and their replicas) mean equal codecs.
        var probe = ClusterTestData.Random(1, dim, seed: 22);
        var probeIds = new List<ulong>();
        for (ulong id = 1_000_000; probeIds.Select(layout.ShardOf).Distinct().Count() < 6; id++) probeIds.Add(id);
        await cluster.UpsertBatchAsync(probeIds, new VectorMatrix(Enumerable.Repeat(probe.Data, probeIds.Count).SelectMany(v => v).ToArray(), dim));
        // No filter: a selective filter is answered by an exact scan, which would not touch the codes.
        var query = probe.Data.Select((x, i) => x + (i % 2 == 0 ? 0.05f : -0.03f)).ToArray();
        var hits = (await cluster.SearchAsync(query, new SearchOptions { K = probeIds.Count })).Hits;
        Assert.Equal(probeIds.Order(), hits.Select(h => h.Id).Order());
        Assert.Single(hits.Select(h => h.Score).Distinct());
        // The estimate is not the exact distance, so the codes really were scored (sq8 is lossy).
        float exact = query.Zip(probe.Data, (a, b) => (a - b) * (a - b)).Sum();
        Assert.NotEqual(exact, hits[0].Score);
        output.WriteLine($"probe score on all 6 shards {hits[0].Score} (exact {exact})");
        foreach (var p in layout.Shards)
            foreach (var silo in p.InSync())
            {
                var d = await H.Copy(layout, p.Shard, silo).DescribeAsync();
                Assert.Equal(1, d.Generation);
            }
        await H.Database().DropCollectionAsync("codec");
    }

    [Fact]
    public async Task CrossingTheTrainingThresholdTrainsEveryShardTogether()
    {
        var options = new CollectionOptions { Dimension = 16, Metric = Metric.L2, Compression = "sq8", TrainingThreshold = 600, MaxTrainingSample = 300 };
        var (cluster, data, ids) = await TrainByThresholdAsync("autotrain", options, seed: 31);
        Assert.Equal(900, await cluster.CountAsync());
        var hits = (await cluster.SearchAsync(data.Row(7).ToArray(), new SearchOptions { K = 1, Rerank = 10 })).Hits;
        Assert.Equal(ids[7], hits[0].Id);
        await H.Database().DropCollectionAsync("autotrain");
    }

    [Fact]
    public async Task ACollectionWithNothingSharedToTrainBuildsEveryCopyInPlace()
    {
        var options = new CollectionOptions { Dimension = 16, Metric = Metric.L2, Compression = "none", Index = "flat", TrainingThreshold = 600 };
        string[] before = [];
        var (cluster, data, ids) = await TrainByThresholdAsync("inplace", options, seed: 37, belowThreshold: () => before = LocalCollections("default.inplace."));
        // Every copy kept its one data collection: no training sample staged, no collection rebuilt beside it.
        Assert.Equal(before, LocalCollections("default.inplace."));
        Assert.Equal(6, before.Length);
        var layout = await cluster.GetLayoutAsync();
        foreach (var p in layout.Shards)
            foreach (var silo in p.InSync())
                Assert.True((await H.Copy(layout, p.Shard, silo).StatsAsync()).Trained, $"shard {p.Shard} on {silo} has no index");

        var truth = VectorDatabase.CreateInMemory().CreateCollection("truth", options);
        truth.UpsertBatch(ids, data);
        var queries = ClusterTestData.Random(20, options.Dimension, seed: 38);
        var k10 = new SearchOptions { K = 10 };
        AssertSameHits(truth.SearchBatch(queries, k10, threads: 1), await cluster.SearchBatchAsync(queries, k10));
        await H.Database().DropCollectionAsync("inplace");
    }

    [Fact]
    public async Task ACopyEmptyWhenTrainedInPlaceBuildsItsIndexWithItsFirstVectors()
    {
        const int dim = 8;
        var options = new CollectionOptions { Dimension = dim, Metric = Metric.L2, Compression = "none", Index = "flat", TrainingThreshold = 300 };
        var cluster = await H.Database().CreateCollectionAsync("inplace-empty", options, shards: 3, replicationFactor: 2);
        var layout = await cluster.GetLayoutAsync();
        var elsewhere = Enumerable.Range(1, 5000).Select(i => (ulong)i).Where(id => layout.ShardOf(id) != 2).Take(400).ToArray();
        var late = Enumerable.Range(1, 5000).Select(i => (ulong)i).Where(id => layout.ShardOf(id) == 2).Take(50).ToArray();
        await cluster.UpsertBatchAsync(elsewhere, ClusterTestData.Random(elsewhere.Length, dim, seed: 41));
        Assert.True(await ClusterHarness.WaitUntilAsync(async () => (await cluster.GetLayoutAsync()).TrainingGeneration == 1, TimeSpan.FromSeconds(60)));
        layout = await cluster.GetLayoutAsync();
        var shard2 = layout.Shards[2].InSync().Select(silo => H.Copy(layout, 2, silo)).ToArray();
        foreach (var copy in shard2) Assert.False((await copy.StatsAsync()).Trained); // nothing to build on yet

        // The layout grain may still be pushing the trained layout to shard 2's copies (the layout reads as trained
        // as soon as it is stored): a copy builds at the first of that push and the write.
        await cluster.UpsertBatchAsync(late, ClusterTestData.Random(late.Length, dim, seed: 42));
        // Trained shows as soon as the index is in memory, while the build's log entry is still being made durable;
        // the copy takes the generation after that, so the two are awaited together.
        foreach (var copy in shard2)
            Assert.True(await ClusterHarness.WaitUntilAsync(
                async () => (await copy.StatsAsync()).Trained && (await copy.DescribeAsync()).Generation == 1, TimeSpan.FromSeconds(30)));
        await H.Database().DropCollectionAsync("inplace-empty");
    }

    [Fact]
    public async Task ASearchSendsOneMessagePerSiloWhichSearchesItsCopiesInProcess()
    {
        const int dim = 8;
        var options = new CollectionOptions { Dimension = dim, Metric = Metric.L2, Compression = "none", Index = "flat" };
        var data = ClusterTestData.Random(600, dim, seed: 43);
        var (cluster, single) = await LoadBothAsync(H, "per-silo", options, data, shards: 6);
        var layout = await cluster.GetLayoutAsync();
        // Every copy is active (the writes reached them all), so each silo answers from memory.
        for (int q = 0; q < 8; q++)
        {
            var before = SearchCallCounter.Of("per-silo");
            var r = await cluster.SearchAsync(data.Row(q * 70).ToArray(), new SearchOptions { K = 10 });
            var after = SearchCallCounter.Of("per-silo");
            Assert.False(r.IsPartial);
            Assert.Equal(single.Search(data.Row(q * 70), new SearchOptions { K = 10 }).Select(h => (h.Id, h.Score)), r.Hits.Select(h => (h.Id, h.Score)));
            // One message per silo holding a chosen copy (at most one per silo, at least enough to cover 6 shards
            // of which no silo holds more than its share), and none per copy.
            int messages = after.Silo - before.Silo;
            Assert.InRange(messages, 1, layout.Shards.SelectMany(p => p.InSync()).Distinct().Count());
            Assert.Equal(0, after.Copy - before.Copy);
        }
        await H.Database().DropCollectionAsync("per-silo");
    }

    [Fact]
    public async Task ASilosSearchAnswersForEveryCopyItCanAndLeavesTheOthersToTheCoordinator()
    {
        const int dim = 8;
        var options = new CollectionOptions { Dimension = dim, Metric = Metric.L2, Compression = "none", Index = "flat" };
        var cluster = await H.Database().CreateCollectionAsync("silo-search", options, shards: 3, replicationFactor: 1);
        var data = ClusterTestData.Random(300, dim, seed: 44);
        await cluster.UpsertBatchAsync(ClusterTestData.Ids(300), data);
        var layout = await cluster.GetLayoutAsync();
        var p = layout.Shards[0];
        string stranger = H.SiloAddresses().First(s => !p.InSync().Contains(s));
        var query = new Shards.ShardQuery { Queries = data.Row(5).ToArray(), Dimension = dim, K = 5 };
        // The shard's own copy, and a copy of it on a silo that holds none: the second answers nothing, the first
        // still answers.
        string own = new Shards.ShardKey(p.Primary, layout.Database, layout.Collection, 0).ToString();
        string foreign = new Shards.ShardKey(p.Primary, layout.Database, layout.Collection, 99).ToString();
        var answers = await H.Grains.GetGrain<Shards.ISiloSearchGrain>(Shards.ShardKey.SearchKey(p.Primary))
            .SearchAsync([own, foreign], query, null, TimeSpan.FromSeconds(30));
        Assert.NotNull(answers[0]);
        Assert.Null(answers[1]);
        Assert.Equal(5, answers[0]!.Ids[0].Length);
        // A silo asked for a copy it does not hold answers nothing for it (the copy it activates there has no role).
        string misplaced = new Shards.ShardKey(stranger, layout.Database, layout.Collection, 0).ToString();
        var none = await H.Grains.GetGrain<Shards.ISiloSearchGrain>(Shards.ShardKey.SearchKey(stranger))
            .SearchAsync([misplaced], query, [[1, 2, 3]], TimeSpan.FromSeconds(30));
        Assert.Null(none[0]);
        await H.Database().DropCollectionAsync("silo-search");
    }

    [Fact]
    public async Task ACopyThatCannotAnswerOnItsSiloIsReplacedByAnotherCopy()
    {
        const int dim = 8;
        var options = new CollectionOptions { Dimension = dim, Metric = Metric.L2, Compression = "none", Index = "flat" };
        var data = ClusterTestData.Random(300, dim, seed: 45);
        var (cluster, single) = await LoadBothAsync(H, "fallback", options, data, shards: 3);
        var layout = await cluster.GetLayoutAsync();
        // Shard 0's replica is told (by a layout version from the future, which the layout grain never reaches) that
        // it holds nothing: it refuses reads while this coordinator's layout still lists it as in sync.
        var p = layout.Shards[0];
        var replica = H.Copy(layout, 0, p.Replicas[0]);
        await replica.ConfigureAsync(new Shards.ShardAssignment { LayoutVersion = long.MaxValue / 2, Role = Shards.ShardRole.None, Spec = layout.Spec });
        var before = SearchCallCounter.Of("fallback");
        for (int q = 0; q < 6; q++)
        {
            var r = await cluster.SearchAsync(data.Row(q * 40).ToArray(), new SearchOptions { K = 10 });
            Assert.False(r.IsPartial);
            Assert.Equal(single.Search(data.Row(q * 40), new SearchOptions { K = 10 }).Select(h => (h.Id, h.Score)), r.Hits.Select(h => (h.Id, h.Score)));
        }
        // The rotation chose the refusing copy for half the searches. Each time its silo asked it once more through
        // Orleans (as it would a copy deactivated since it was listed), and the coordinator then asked the primary:
        // two copy messages for each of the three.
        Assert.Equal(6, SearchCallCounter.Of("fallback").Copy - before.Copy);
        await H.Database().DropCollectionAsync("fallback");
    }

    /// <summary>
    /// A 3-shard, R = 2 collection of 900 random vectors written 100 at a time across its <c>TrainingThreshold</c>
    /// (600): untrained at 500 (then <paramref name="belowThreshold"/> runs), and every in-sync copy at generation 1
    /// within a minute of the rest.
    /// </summary>
    private async Task<(DistributedCollection Cluster, VectorMatrix Data, ulong[] Ids)> TrainByThresholdAsync(
        string name, CollectionOptions options, int seed, Action? belowThreshold = null)
    {
        var cluster = await H.Database().CreateCollectionAsync(name, options, shards: 3, replicationFactor: 2);
        var data = ClusterTestData.Random(900, options.Dimension, seed);
        var ids = ClusterTestData.Ids(900);
        for (int i = 0; i < 500; i += 100) await cluster.UpsertBatchAsync(ids[i..(i + 100)], data.Slice(i, 100));
        Assert.Equal(0, (await cluster.GetLayoutAsync()).TrainingGeneration); // below the threshold: exact scans
        belowThreshold?.Invoke();
        for (int i = 500; i < 900; i += 100) await cluster.UpsertBatchAsync(ids[i..(i + 100)], data.Slice(i, 100));
        Assert.True(await ClusterHarness.WaitUntilAsync(async () => (await cluster.GetLayoutAsync()).TrainingGeneration == 1, TimeSpan.FromSeconds(60)));
        var layout = await cluster.GetLayoutAsync();
        foreach (var p in layout.Shards)
            foreach (var silo in p.InSync())
                Assert.Equal(1, (await H.Copy(layout, p.Shard, silo).DescribeAsync()).Generation);
        return (cluster, data, ids);
    }

    /// <summary>Every silo's local collection names starting with <paramref name="prefix"/>, sorted.</summary>
    private string[] LocalCollections(string prefix) =>
        H.Cluster.Silos.SelectMany(s => s.ServiceProvider.GetRequiredService<ShardStore>().Database.CollectionNames)
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();

    private static double Recall(SearchHit[][] truth, SearchHit[][] found)
    {
        double sum = 0;
        for (int q = 0; q < truth.Length; q++)
            sum += found[q].Select(h => h.Id).Intersect(truth[q].Select(h => h.Id)).Count() / (double)truth[q].Length;
        return sum / truth.Length;
    }
}
