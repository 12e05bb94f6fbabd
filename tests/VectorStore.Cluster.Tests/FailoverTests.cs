using System.Diagnostics;
using VectorStore.Cluster.Layout;
using VectorStore.Collections;
using Xunit;
using Xunit.Abstractions;

namespace VectorStore.Cluster.Tests;

/// <summary>Step 6: a silo dies under load with R = 2; its shards' replicas take over and nothing acknowledged is lost.</summary>
[Trait("Category", "Cluster")]
public class FailoverTests(ITestOutputHelper output)
{
    internal const int Dim = 16;

    internal static readonly ClusterCoordinatorOptions Coordinator = new()
    {
        ShardTimeout = TimeSpan.FromSeconds(2),
        WriteTimeout = TimeSpan.FromSeconds(45),
    };

    [Fact]
    public async Task KillingASiloUnderLoadLosesNoAcknowledgedWrite()
    {
        await using var h = await ClusterHarness.StartAsync(3);
        var c = await h.Database(Coordinator).CreateCollectionAsync("failover",
            new CollectionOptions { Dimension = Dim, Metric = Metric.L2, Compression = "none", TrainingThreshold = 1_000_000 }, shards: 6, replicationFactor: 2);
        var load = new LoadGenerator(c, Dim, firstId: 1);
        load.Start(writers: 2, batch: 20, searchK: 10);
        await Task.Delay(1500);

        var before = await c.GetLayoutAsync();
        var victim = h.Cluster.Silos[1];
        string dead = victim.SiloAddress.ToParsableString();
        int ackedAtKill = load.Acknowledged.Count;
        var clock = Stopwatch.StartNew();
        await h.Cluster.KillSiloAsync(victim);
        bool healed = await ClusterHarness.WaitUntilAsync(async () => Healed(await c.GetLayoutAsync(), dead, 2), TimeSpan.FromSeconds(60));
        var healTime = clock.Elapsed;
        await Task.Delay(1000); // load keeps running on the healed layout
        await load.StopAsync();
        Assert.True(healed, "layout did not heal within 60 s");

        var after = await c.GetLayoutAsync();
        output.WriteLine($"acked {load.Acknowledged.Count} ids ({ackedAtKill} before the kill), failed write calls {load.FailedWrites}; " +
            $"searches complete {load.CompleteSearches}, partial {load.PartialSearches}; healed in {healTime.TotalSeconds:F1} s; layout v{before.Version} -> v{after.Version}");
        Assert.Empty(load.Violations);
        Assert.True(load.Acknowledged.Count > ackedAtKill, "no write was acknowledged after the kill");
        foreach (var p in before.Shards.Where(p => p.Primary == dead))
            Assert.True(after.Shards[p.Shard].Epoch > p.Epoch, $"shard {p.Shard} lost its primary but kept epoch {p.Epoch}");
        await AssertEveryAcknowledgedIdIsOnEveryCopyAsync(h, c, load);
        // Through the harness's patient coordinator: the load's 2 s shard timeout is for the load, and a copy slowed by
        // another process on the cores must not make the healed cluster look partial.
        var patient = await h.Database().GetCollectionAsync("failover");
        Assert.False((await patient.SearchAsync(new float[Dim], new SearchOptions { K = 10 })).IsPartial);
    }

    [Fact]
    public async Task WithoutAReplicaAShardIsReportedMissingNotSilentlyEmpty()
    {
        await using var h = await ClusterHarness.StartAsync(3);
        var c = await h.Database(Coordinator).CreateCollectionAsync("partial",
            new CollectionOptions { Dimension = 4, Metric = Metric.L2, Compression = "none" }, shards: 3, replicationFactor: 1);
        var data = ClusterTestData.Random(300, 4, seed: 5);
        await c.UpsertBatchAsync(ClusterTestData.Ids(300), data);
        var layout = await c.GetLayoutAsync();
        var victim = h.Cluster.Silos[2];
        string dead = victim.SiloAddress.ToParsableString();
        var lost = layout.Shards.Where(p => p.Primary == dead).Select(p => p.Shard).Order().ToArray();
        Assert.NotEmpty(lost);
        await h.Cluster.KillSiloAsync(victim);

        var r = await c.SearchAsync(data.Row(0).ToArray(), new SearchOptions { K = 300 });
        Assert.True(r.IsPartial);
        Assert.Equal(lost, r.MissingShards);
        Assert.True(r.Hits.Length < 300);
        Assert.All(r.Hits, hit => Assert.DoesNotContain(layout.ShardOf(hit.Id), lost));
        var e = Assert.Throws<PartialResultException>(() => c.Search(data.Row(0), new SearchOptions { K = 10 }));
        Assert.Equal(lost, e.Result.MissingShards);
    }

    /// <summary>Every shard has <paramref name="r"/> in-sync copies and none on the dead silo.</summary>
    internal static bool Healed(ClusterLayout layout, string dead, int r) =>
        layout.Shards.All(p => p.Learners.Length == 0 && p.InSync().Length == r && !p.Members().Contains(dead));

    internal static async Task AssertEveryAcknowledgedIdIsOnEveryCopyAsync(ClusterHarness h, DistributedCollection c, LoadGenerator load)
    {
        var layout = await c.GetLayoutAsync();
        var byShard = load.Acknowledged.Keys.GroupBy(layout.ShardOf);
        foreach (var group in byShard)
        {
            var ids = group.Order().ToArray();
            foreach (var silo in layout.Shards[group.Key].InSync())
            {
                var page = await h.Copy(layout, group.Key, silo).GetAsync(ids);
                var stored = page.Ids.Select((id, i) => (id, i)).ToDictionary(t => t.id, t => t.i);
                foreach (var id in ids)
                {
                    Assert.True(stored.TryGetValue(id, out int row), $"acknowledged id {id} missing on {silo} (shard {group.Key})");
                    Assert.True(load.Acknowledged[id].AsSpan().SequenceEqual(page.Vectors.AsSpan(row * Dim, Dim)), $"id {id} differs on {silo}");
                }
            }
        }
    }
}
