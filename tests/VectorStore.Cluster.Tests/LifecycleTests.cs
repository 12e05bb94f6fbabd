using System.Text.Json;
using VectorStore.Cluster.Shards;
using VectorStore.Collections;
using VectorStore.Lifecycle;
using Xunit;
using Xunit.Abstractions;

namespace VectorStore.Cluster.Tests;

/// <summary>
/// Item 6: the compression lifecycle through the cluster. A generation is built on every copy of every shard from one
/// shared sample (the same codec everywhere), switched together, rolled back together; exposure picks one generation
/// per key on every shard; figures are aggregated; automatic per-shard steps are refused.
/// </summary>
[Collection(ThreeSilos.Name)]
[Trait("Category", "Cluster")]
public class LifecycleTests(ThreeSiloFixture fixture, ITestOutputHelper output)
{
    private const int Dim = 32;
    private ClusterHarness H => fixture.Harness;

    /// <summary>A trained 6-shard collection and one probe vector stored under an id on every shard.</summary>
    internal static async Task<(DistributedCollection Cluster, List<ulong> ProbeIds, float[] Query)> TrainedWithProbesAsync(DistributedDatabase db, string name, int shards = 6)
    {
        var data = ClusterTestData.Random(3000, Dim, seed: 51);
        var cluster = await db.CreateCollectionAsync(name, new CollectionOptions { Dimension = Dim, Metric = Metric.L2, Compression = "sq8", TrainingThreshold = 1_000_000, MaxTrainingSample = 400 }, shards: shards, replicationFactor: 2);
        await cluster.UpsertBatchAsync(ClusterTestData.Ids(3000), data);
        await cluster.BuildIndexAsync();
        var layout = await cluster.GetLayoutAsync();
        var probe = ClusterTestData.Random(1, Dim, seed: 52);
        var probeIds = new List<ulong>();
        for (ulong id = 1_000_000; probeIds.Select(layout.ShardOf).Distinct().Count() < shards; id++) probeIds.Add(id);
        await cluster.UpsertBatchAsync(probeIds, new VectorMatrix(Enumerable.Repeat(probe.Data, probeIds.Count).SelectMany(v => v).ToArray(), Dim));
        return (cluster, probeIds, probe.Data.Select((x, i) => x + (i % 2 == 0 ? 0.05f : -0.03f)).ToArray());
    }

    /// <summary>
    /// The probe's hits with rerank 0 (the codec's estimate): one score on every shard means one codec; returns it and
    /// the generation every hit says answered.
    /// </summary>
    internal static async Task<(float Score, int Generation)> ProbeAsync(DistributedCollection cluster, List<ulong> probeIds, float[] query, string? key = null)
    {
        var hits = (await cluster.SearchAsync(query, new SearchOptions { K = probeIds.Count, Rerank = 0, ExposureKey = key })).Hits;
        Assert.Equal(probeIds.Order(), hits.Select(h => h.Id).Order());
        Assert.Single(hits.Select(h => h.Score).Distinct());
        Assert.Single(hits.Select(h => h.Generation).Distinct());
        return (hits[0].Score, hits[0].Generation);
    }

    private static VectorMatrix Cloud(int count, int dim, int seed, float shift, float scale)
    {
        var rng = new Random(seed);
        var m = new VectorMatrix(count, dim);
        for (int i = 0; i < count; i++)
            for (int d = 0; d < dim; d++)
                m[i][d] = (float)((rng.NextDouble() * 2 - 1) * scale + (d < 4 ? shift : 0));
        return m;
    }

    [Fact]
    public async Task TheDriftLadderRetrainsEveryShardTogetherAndPromotesThroughTheGate()
    {
        // Two shards trained on one distribution (a shared sample of 10,000: each copy's drift sensors need 8,000),
        // then a shifted one: the shards' sensors fire, and the layout grain's ladder (not each shard's) builds one
        // candidate from a fresh shared sample, canaries it on every copy and promotes it once the gate passes.
        const int dim = 16;
        var cluster = await H.Database().CreateCollectionAsync("ladder", new CollectionOptions { Dimension = dim, Metric = Metric.L2, Compression = "sq8", TrainingThreshold = 1_000_000, MaxTrainingSample = 10_000 }, shards: 2, replicationFactor: 2);
        await cluster.UpsertBatchAsync(ClusterTestData.Ids(20_000), Cloud(20_000, dim, 1, 0, 1));
        await cluster.BuildIndexAsync();
        Assert.False((await cluster.GetDriftAsync()).Drifted);
        Assert.True((await cluster.GetDriftAsync()).Sensors);
        await cluster.SetLifecyclePolicyAsync(new LifecyclePolicy
        {
            BuildCandidateOnDrift = true, PromoteWhenGatePasses = true, CanaryRate = 1,
            Gate = new PromotionGate { MinExactQueries = 10, MaxRecallLoss = 0.01, MaxP99Factor = 1000 },
        });
        var shifted = Cloud(6000, dim, 2, 3, 2);
        var shiftedIds = Enumerable.Range(0, 6000).Select(i => 5_000_000UL + (ulong)i).ToArray();
        for (int b = 0; b < 12; b++)
            await cluster.UpsertBatchAsync(shiftedIds[(b * 500)..((b + 1) * 500)], new VectorMatrix(shifted.Data.AsSpan(b * 500 * dim, 500 * dim).ToArray(), dim));
        var drift = await cluster.GetDriftAsync();
        Assert.True(drift.Drifted, "shifted inserts fired no sensor: " + string.Join(", ", drift.Signals.Select(s => $"{s.Name} {s.Value}/{s.Threshold}")));

        // The periodic reconcile runs the ladder; the test drives it instead of waiting for the timer.
        var queries = Cloud(200, dim, 3, 3, 2);
        var deadline = DateTime.UtcNow.AddSeconds(120);
        int live = 1;
        for (int round = 0; live == 1 && DateTime.UtcNow < deadline; round++)
        {
            await cluster.LayoutGrain.ReconcileAsync();
            for (int i = 0; i < 20; i++) await cluster.SearchAsync(queries.Row((round * 20 + i) % queries.Count).ToArray(), new SearchOptions { K = 10 });
            await Task.Delay(100);
            live = (await cluster.GetLayoutAsync()).LiveGeneration;
        }
        Assert.Equal(2, live);
        // The ladder notes the promotion once every copy has switched, just after the layout records it.
        var actions = (await cluster.GetDriftAsync()).Actions;
        while (!actions.Any(a => a.Contains("cluster: promoted generation 2", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            actions = (await cluster.GetDriftAsync()).Actions;
        }
        output.WriteLine(string.Join("\n", actions));
        Assert.Contains(actions, a => a.Contains("cluster: drift on generation 1", StringComparison.Ordinal));
        Assert.Contains(actions, a => a.Contains("cluster: training candidate generation 2", StringComparison.Ordinal));
        Assert.Contains(actions, a => a.Contains("cluster: promoted generation 2", StringComparison.Ordinal));
        // No shard trained a candidate of its own: the only generations are the layout's.
        var layout = await cluster.GetLayoutAsync();
        foreach (var p in layout.Shards)
            foreach (var silo in p.InSync())
            {
                var infos = JsonSerializer.Deserialize<GenerationInfo[]>(await H.Copy(layout, p.Shard, silo).GenerationsJsonAsync(), ShardReplicaGrain.LifecycleJson)!;
                Assert.Equal([1, 2], infos.Select(i => i.Generation).Order());
                Assert.Equal(GenerationState.Live, infos.Single(i => i.Generation == 2).State);
            }
        await H.Database().DropCollectionAsync("ladder");
    }

    [Fact]
    public async Task AGenerationIsBuiltFromOneSampleAndSwitchedOnEveryShardTogether()
    {
        var (cluster, probeIds, query) = await TrainedWithProbesAsync(H.Database(), "life");
        var (sq8Score, g1) = await ProbeAsync(cluster, probeIds, query);
        Assert.Equal(1, g1);

        int g = await cluster.BuildGenerationAsync("pq:8", "flat");
        Assert.Equal(2, g);
        var list = await cluster.ListGenerationsAsync();
        Assert.Equal([(1, GenerationState.Live), (2, GenerationState.Candidate)], list.Select(x => (x.Generation, x.State)));
        Assert.True(list[1].Ready);
        Assert.Null(list[1].Error);
        Assert.Equal("pq:8", list[1].Compression);
        // gc keeps a healthy candidate (it drops only failed ones and retired ones beyond retention).
        Assert.Equal(0, await cluster.CollectGenerationsAsync());
        Assert.Equal(2, (await cluster.ListGenerationsAsync()).Count);

        // Offline canary on every shard, aggregated.
        var queries = ClusterTestData.Random(20, Dim, seed: 53);
        var canary = await cluster.RunCanaryAsync(2, queries, new SearchOptions { K = 10 });
        output.WriteLine($"canary: live recall {canary.RecallLive:F3}, candidate {canary.RecallCandidate:F3}, overlap {canary.Overlap:F3}, {canary.Queries} queries");
        Assert.Equal(20, canary.Queries);
        Assert.Equal(2, canary.Generation);
        Assert.InRange(canary.RecallCandidate, 0.3, 1.0);

        // Exposure: a key in the exposed share is answered by the candidate on every shard, others by the live one.
        await cluster.SetExposureAsync(2, 100);
        var exposed = await ProbeAsync(cluster, probeIds, query, key: "user-1");
        Assert.Equal(2, exposed.Generation);
        Assert.NotEqual(sq8Score, exposed.Score);
        Assert.Equal(1, (await ProbeAsync(cluster, probeIds, query)).Generation);
        await cluster.SetExposureAsync(2, 0);

        // A gate without canary figures refuses; nothing switched.
        var gated = await Assert.ThrowsAnyAsync<Exception>(() => cluster.PromoteAsync(2, new PromotionGate()));
        Assert.Contains("refused by the gate", gated.Message);
        Assert.Equal(1, (await ProbeAsync(cluster, probeIds, query)).Generation);

        await cluster.PromoteAsync(2);
        var promoted = await ProbeAsync(cluster, probeIds, query);
        Assert.Equal((exposed.Score, 2), promoted);
        Assert.Equal([(1, GenerationState.Retired), (2, GenerationState.Live)], (await cluster.ListGenerationsAsync()).Select(x => (x.Generation, x.State)));
        // info says so too (it reported 1 after every promotion).
        Assert.Equal(2, (await cluster.GetInfoAsync()).Stats.Generation);
        // Every copy of every shard (replicas too) has it live.
        var layout = await cluster.GetLayoutAsync();
        foreach (var p in layout.Shards)
            foreach (var silo in p.InSync())
            {
                var infos = JsonSerializer.Deserialize<GenerationInfo[]>(await H.Copy(layout, p.Shard, silo).GenerationsJsonAsync(), ShardReplicaGrain.LifecycleJson)!;
                Assert.Equal(GenerationState.Live, infos.Single(i => i.Generation == 2).State);
            }

        Assert.Equal(1, await cluster.RollbackAsync());
        Assert.Equal((sq8Score, 1), await ProbeAsync(cluster, probeIds, query));
        Assert.Equal(1, (await cluster.GetInfoAsync()).Stats.Generation);
        Assert.Equal(GenerationState.Candidate, (await cluster.ListGenerationsAsync()).Single(x => x.Generation == 2).State);

        var drift = await cluster.GetDriftAsync();
        Assert.Equal(1, drift.Generation);
        Assert.All(drift.Signals, s => Assert.StartsWith("shard ", s.Name));

        // A build every copy refuses (a spec the engine rejects) leaves no candidate behind to hold a slot.
        var bad = await Assert.ThrowsAnyAsync<Exception>(() => cluster.BuildGenerationAsync("bogus", "flat"));
        output.WriteLine($"bad spec: {bad.Message}");
        Assert.Equal([1, 2], (await cluster.ListGenerationsAsync()).Select(x => x.Generation));

        // A copy that missed a switch, or holds a generation the layout no longer lists (3, withdrawn above), is
        // brought in line by the next push (every reconcile pushes to every copy).
        var first = layout.Shards[0];
        var lagging = H.Copy(layout, first.Shard, first.Primary);
        await lagging.SetLiveGenerationAsync(2);
        var stray = ClusterTestData.Random(300, Dim, seed: 54);
        await lagging.StageGenerationSampleAsync(3, stray.Data, reset: true);
        Assert.Null(await lagging.StartGenerationAsync(3, "sq8", "flat"));
        Assert.Null(await lagging.WaitGenerationAsync(3));
        await cluster.LayoutGrain.ReconcileAsync();
        var caughtUp = JsonSerializer.Deserialize<GenerationInfo[]>(await lagging.GenerationsJsonAsync(), ShardReplicaGrain.LifecycleJson)!;
        Assert.Equal(GenerationState.Live, caughtUp.Single(i => i.Generation == 1).State);
        Assert.DoesNotContain(caughtUp, i => i.Generation == 3);
        Assert.Equal((sq8Score, 1), await ProbeAsync(cluster, probeIds, query));

        // An automatic rollback floor would judge per copy: refused. Retention is honoured by the layout.
        await Assert.ThrowsAnyAsync<NotSupportedException>(() => cluster.SetLifecyclePolicyAsync(new LifecyclePolicy { RollbackRecallFloor = 0.9 }));
        Assert.Equal(new LifecyclePolicy(), await cluster.GetLifecyclePolicyAsync()); // the refused one left nothing behind
        await cluster.SetLifecyclePolicyAsync(new LifecyclePolicy { RetainRetired = 0 });
        Assert.Equal(new LifecyclePolicy { RetainRetired = 0 }, await cluster.GetLifecyclePolicyAsync());
        await cluster.PromoteAsync(2);
        Assert.Equal([2], (await cluster.ListGenerationsAsync()).Select(x => x.Generation));
        Assert.Equal(2, (await ProbeAsync(cluster, probeIds, query)).Generation);
        await Assert.ThrowsAnyAsync<Exception>(() => cluster.RollbackAsync());
        // A retrain of the old kind would throw the generations away: refused.
        await Assert.ThrowsAnyAsync<Exception>(() => cluster.BuildIndexAsync());
        // A generation rolled back from live falls under the retention, as in an engine collection (it stayed for good).
        await cluster.SetLifecyclePolicyAsync(new LifecyclePolicy { RetainRetired = 1 });
        int third = await cluster.BuildGenerationAsync("sq8", "flat");
        await cluster.PromoteAsync(third);
        Assert.Equal(2, await cluster.RollbackAsync());
        Assert.Equal([(2, GenerationState.Live), (third, GenerationState.Candidate)], (await cluster.ListGenerationsAsync()).Select(x => (x.Generation, x.State)));
        await cluster.SetLifecyclePolicyAsync(new LifecyclePolicy { RetainRetired = 0 });
        Assert.Equal(1, await cluster.CollectGenerationsAsync());
        Assert.Equal([2], (await cluster.ListGenerationsAsync()).Select(x => x.Generation));
        await H.Database().DropCollectionAsync("life");
    }
}

/// <summary>A silo that joins after a promotion receives the live generation with its copies (the same codec).</summary>
[Trait("Category", "Cluster")]
public class LifecycleJoinTests(ITestOutputHelper output)
{
    [Fact]
    public async Task ANewCopyServesWithTheLiveGenerationFromItsFirstRead()
    {
        await using var h = await ClusterHarness.StartAsync(3);
        var (cluster, probeIds, query) = await LifecycleTests.TrainedWithProbesAsync(h.Database(), "lifejoin");
        int g = await cluster.BuildGenerationAsync("pq:8", "flat");
        await cluster.PromoteAsync(g);
        var before = await LifecycleTests.ProbeAsync(cluster, probeIds, query);

        var joined = await h.Cluster.StartAdditionalSiloAsync();
        string added = joined.SiloAddress.ToParsableString();
        Assert.True(await ClusterHarness.WaitUntilAsync(async () => JoinTests.Balanced(await cluster.GetLayoutAsync(), added), TimeSpan.FromSeconds(90)),
            "the new silo did not receive its share within 90 s");
        var layout = await cluster.GetLayoutAsync();
        var moved = layout.Shards.Where(p => p.Members().Contains(added)).ToArray();
        Assert.NotEmpty(moved);
        foreach (var p in moved)
        {
            var infos = JsonSerializer.Deserialize<GenerationInfo[]>(await h.Copy(layout, p.Shard, added).GenerationsJsonAsync(), ShardReplicaGrain.LifecycleJson)!;
            Assert.Equal(GenerationState.Live, infos.Single(i => i.Generation == g).State);
        }
        // Reads that land on the moved copies score with the same codec: every probe hit the same score as before.
        for (int round = 0; round < 6; round++) Assert.Equal(before, await LifecycleTests.ProbeAsync(cluster, probeIds, query));
        output.WriteLine($"{moved.Length} copies moved to {added}, each with generation {g} live");
    }
}
