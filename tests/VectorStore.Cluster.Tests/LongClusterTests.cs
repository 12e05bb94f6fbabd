using System.Diagnostics;
using VectorStore.Collections;
using Xunit;
using Xunit.Abstractions;

namespace VectorStore.Cluster.Tests;

/// <summary>The full versions of the done-means tests (minutes): 10 kill/join rounds, and recall on all 50k vectors.</summary>
public class LongClusterTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Cluster")]
    [Trait("Category", "Long")]
    public async Task TenRoundsOfKillingAndAddingSilosUnderLoadLoseNothing()
    {
        await using var h = await ClusterHarness.StartAsync(3);
        var c = await h.Database(FailoverTests.Coordinator).CreateCollectionAsync("rounds",
            new CollectionOptions { Dimension = FailoverTests.Dim, Metric = Metric.L2, Compression = "none", TrainingThreshold = 1_000_000 }, shards: 6, replicationFactor: 2);
        var load = new LoadGenerator(c, FailoverTests.Dim, firstId: 1);
        load.Start(writers: 2, batch: 20, searchK: 10);
        var rng = new Random(19);
        for (int round = 1; round <= 10; round++)
        {
            await Task.Delay(1000);
            var clock = Stopwatch.StartNew();
            var victim = h.Cluster.Silos[rng.Next(h.Cluster.Silos.Count)];
            string dead = victim.SiloAddress.ToParsableString();
            await h.Cluster.KillSiloAsync(victim);
            Assert.True(await ClusterHarness.WaitUntilAsync(async () => FailoverTests.Healed(await c.GetLayoutAsync(), dead, 2), TimeSpan.FromSeconds(90)), $"round {round}: no heal");
            var healed = clock.Elapsed;
            var joined = await h.Cluster.StartAdditionalSiloAsync();
            string added = joined.SiloAddress.ToParsableString();
            Assert.True(await ClusterHarness.WaitUntilAsync(async () => JoinTests.Balanced(await c.GetLayoutAsync(), added), TimeSpan.FromSeconds(90)), $"round {round}: no balance");
            output.WriteLine($"round {round}: killed {victim.Name}, healed in {healed.TotalSeconds:F1} s, {joined.Name} balanced after {clock.Elapsed.TotalSeconds:F1} s; acked so far {load.Acknowledged.Count}");
        }
        await load.StopAsync();
        output.WriteLine($"acked {load.Acknowledged.Count}, failed write calls {load.FailedWrites}; searches complete {load.CompleteSearches}, partial {load.PartialSearches}");
        Assert.Empty(load.Violations);
        await FailoverTests.AssertEveryAcknowledgedIdIsOnEveryCopyAsync(h, c, load);
        // Failed calls may have stored some of their rows (neither required nor forbidden), so at least the acked.
        Assert.True(await c.CountAsync() >= load.Acknowledged.Count);
    }

    [SkippableFact]
    [Trait("Category", "Cluster")]
    [Trait("Category", "Long")]
    public async Task ShardedRecallOnTheWholeTextSetIsWithinHalfAPercentOfASingleNode()
    {
        var (data, queries) = ClusterTestData.RequireTextSet(int.MaxValue, int.MaxValue);
        await using var h = await ClusterHarness.StartAsync(3);
        var truthCollection = VectorDatabase.CreateInMemory().CreateCollection("truth", new CollectionOptions { Dimension = data.Dimension, Compression = "none" });
        truthCollection.UpsertBatch(ClusterTestData.Ids(data.Count), data);
        var truth = truthCollection.SearchBatch(queries, new SearchOptions { K = 10 });
        var options = new CollectionOptions { Dimension = data.Dimension, Metric = Metric.Cosine, Compression = "sq8", Index = "flat", TrainingThreshold = 1_000_000, MaxTrainingSample = 8_000 };
        var cluster = await h.Database().CreateCollectionAsync("recall-all", options, shards: 6, replicationFactor: 2);
        var single = VectorDatabase.CreateInMemory().CreateCollection("single", options);
        var ids = ClusterTestData.Ids(data.Count);
        for (int i = 0; i < data.Count; i += 2000)
        {
            int n = Math.Min(2000, data.Count - i);
            await cluster.UpsertBatchAsync(ids[i..(i + n)], data.Slice(i, n));
            single.UpsertBatch(ids[i..(i + n)], data.Slice(i, n));
        }
        single.BuildIndex();
        await cluster.BuildIndexAsync();
        var sharded = await cluster.SearchBatchAsync(queries, new SearchOptions { K = 10 });
        Assert.All(sharded, r => Assert.False(r.IsPartial));
        double Recall(SearchHit[][] found) => found.Select((f, q) => f.Select(x => x.Id).Intersect(truth[q].Select(x => x.Id)).Count() / 10.0).Average();
        double s = Recall(single.SearchBatch(queries, new SearchOptions { K = 10 })), d = Recall(sharded.Select(r => r.Hits).ToArray());
        output.WriteLine($"recall@10 sq8 flat rerank 0, {data.Count} x {data.Dimension}, {queries.Count} queries: single node {s:F4}, 6 shards on 3 silos {d:F4}");
        Assert.True(Math.Abs(s - d) <= 0.005, $"cluster {d:F4} vs single {s:F4}");
    }
}
