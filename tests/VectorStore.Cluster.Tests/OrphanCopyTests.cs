using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using VectorStore.Cluster.Hosting;
using VectorStore.Cluster.Layout;
using VectorStore.Cluster.Shards;
using VectorStore.Collections;
using Xunit;
using Xunit.Abstractions;

namespace VectorStore.Cluster.Tests;

/// <summary>
/// Copies no layout gives a silo any more (moved away or dropped while it was down) are deleted from its disk by the
/// silo's sweep, and only those: never on a missing layout without a recorded drop, never while the shard has no
/// active primary elsewhere. The harness sweeps every second, so every other cluster test also checks that the sweep
/// deletes nothing a layout needs.
/// </summary>
[Trait("Category", "Cluster")]
public class OrphanCopyTests(ITestOutputHelper output)
{
    private const int Dim = 8;
    private static readonly CollectionOptions Options = new() { Dimension = Dim, Metric = Metric.L2, Compression = "none" };

    [Fact]
    public async Task CopiesNoLayoutGivesTheSiloAreDeletedAndNothingElse()
    {
        await using var h = await ClusterHarness.StartAsync(3);
        var db = h.Database();
        var kept = await db.CreateCollectionAsync("kept", Options, shards: 3, replicationFactor: 2);
        await kept.UpsertBatchAsync(ClusterTestData.Ids(300), ClusterTestData.Random(300, Dim, seed: 1));
        var gone = await db.CreateCollectionAsync("gone", Options, shards: 2, replicationFactor: 1);
        await gone.UpsertBatchAsync(ClusterTestData.Ids(50), ClusterTestData.Random(50, Dim, seed: 2));
        Assert.True(await db.DropCollectionAsync("gone"));
        var layout = await kept.GetLayoutAsync();
        var outsider = h.Cluster.Silos.First(s => !layout.Shards[0].Members().Contains(Address(s)));
        var store = outsider.ServiceProvider.GetRequiredService<ShardStore>();

        // What a silo that was down would have kept: a copy the layout moved elsewhere and a copy of a dropped
        // collection. Beside them, one of a collection no layout knows (metadata lost, say): that one stays.
        Fill(store.Create("default.kept.0.", 'd', Options), 100);
        Fill(store.Create("default.gone.1.", 'd', Options), 100);
        Fill(store.Create("default.ghost.0.", 'd', Options), 100);

        bool swept = await ClusterHarness.WaitUntilAsync(() => Task.FromResult(
            !Local(outsider).Any(n => n.StartsWith("default.kept.0.", StringComparison.Ordinal) || n.StartsWith("default.gone.", StringComparison.Ordinal))),
            TimeSpan.FromSeconds(30));
        Assert.True(swept, "the copies no layout gives the silo were not deleted within 30 s: " + string.Join(", ", Local(outsider)));
        await Task.Delay(2500); // two more sweeps
        Assert.Contains(Local(outsider), n => n.StartsWith("default.ghost.0.d", StringComparison.Ordinal));

        // Every copy the layout gives a silo is still there and whole.
        foreach (var silo in h.Cluster.Silos)
        {
            var names = Local(silo);
            for (int s = 0; s < layout.Shards.Length; s++)
                Assert.Equal(layout.Shards[s].Members().Contains(Address(silo)), names.Any(n => n.StartsWith($"default.kept.{s}.d", StringComparison.Ordinal)));
        }
        Assert.Equal(300, await kept.CountAsync());
        foreach (var p in layout.Shards)
            foreach (var member in p.Members())
                Assert.Equal((await h.Copy(layout, p.Shard, p.Primary).CountAsync()), await h.Copy(layout, p.Shard, member).CountAsync());
    }

    [Fact]
    public async Task ASiloRestartedOnItsDiskDropsWhatMovedAwayAndKeepsWhatNoActiveSiloServes()
    {
        await using var h = await ClusterHarness.StartAsync(3);
        var db = h.Database();
        // R = 2: the stopped silo's copies are rebuilt elsewhere. R = 1: its copies are the shards' only ones.
        var moved = await db.CreateCollectionAsync("moved", Options, shards: 6, replicationFactor: 2);
        await moved.UpsertBatchAsync(ClusterTestData.Ids(600), ClusterTestData.Random(600, Dim, seed: 3));
        var single = await db.CreateCollectionAsync("single", Options, shards: 6, replicationFactor: 1);
        await single.UpsertBatchAsync(ClusterTestData.Ids(600), ClusterTestData.Random(600, Dim, seed: 4));
        var dropped = await db.CreateCollectionAsync("dropped", Options, shards: 6, replicationFactor: 1);
        await dropped.UpsertBatchAsync(ClusterTestData.Ids(60), ClusterTestData.Random(60, Dim, seed: 5));

        var victim = h.Cluster.Silos[2];
        string dir = ClusterHarness.DataDirectoryOf(victim), dead = Address(victim);
        var before = Local(victim);
        var onlyCopies = (await single.GetLayoutAsync()).Shards.Where(p => p.Primary == dead).Select(p => p.Shard).ToArray();
        Assert.NotEmpty(onlyCopies);
        Assert.Contains(before, n => n.StartsWith("default.moved.", StringComparison.Ordinal));
        Assert.Contains(before, n => n.StartsWith("default.dropped.", StringComparison.Ordinal));
        await h.Cluster.StopSiloAsync(victim);

        Assert.True(await ClusterHarness.WaitUntilAsync(async () =>
            (await moved.GetLayoutAsync()).Shards.All(p => !p.Members().Contains(dead) && p.InSync().Length == 2), TimeSpan.FromSeconds(60)),
            "the copies of the stopped silo were not rebuilt within 60 s");
        Assert.True(await db.DropCollectionAsync("dropped"));

        var back = await h.StartSiloOnAsync(dir);
        string address = Address(back);
        bool settled = await ClusterHarness.WaitUntilAsync(async () =>
        {
            var layout = await moved.GetLayoutAsync();
            var names = Local(back);
            return !names.Any(n => n.StartsWith("default.dropped.", StringComparison.Ordinal))
                && Enumerable.Range(0, layout.Shards.Length).All(s =>
                    layout.Shards[s].Members().Contains(address) == names.Any(n => n.StartsWith($"default.moved.{s}.", StringComparison.Ordinal)));
        }, TimeSpan.FromSeconds(90));
        output.WriteLine($"before the stop: {string.Join(", ", before)}; after the restart: {string.Join(", ", Local(back))}");
        Assert.True(settled, "the restarted silo still holds copies no layout gives it: " + string.Join(", ", Local(back)));

        // The only copies of the R = 1 shards stay: their primary (the silo's old identity) is not active anywhere.
        await Task.Delay(2500);
        foreach (int s in onlyCopies)
            Assert.Contains(Local(back), n => n.StartsWith($"default.single.{s}.d", StringComparison.Ordinal));
        Assert.Equal(600, await (await h.Database().GetCollectionAsync("moved")).CountAsync());
    }

    [Fact]
    public async Task ACollectionDroppedAndCreatedAgainStartsEmptyOnEverySilo()
    {
        await using var h = await ClusterHarness.StartAsync(3);
        var db = h.Database();
        var first = await db.CreateCollectionAsync("again", Options, shards: 3, replicationFactor: 3);
        await first.UpsertBatchAsync(ClusterTestData.Ids(300), ClusterTestData.Random(300, Dim, seed: 6));
        var victim = h.Cluster.Silos[2];
        string dir = ClusterHarness.DataDirectoryOf(victim), dead = Address(victim);
        await h.Cluster.StopSiloAsync(victim);
        Assert.True(await ClusterHarness.WaitUntilAsync(async () => (await first.GetLayoutAsync()).Shards.All(p => !p.Members().Contains(dead)), TimeSpan.FromSeconds(60)),
            "the stopped silo was not removed from the layout within 60 s");
        Assert.True(await db.DropCollectionAsync("again"));

        // Back on its disk, with its own sweep (which would delete the old copies) not run yet: the create must clear
        // them, or the new collection would serve them. The two silos that heard the drop must take the new layout.
        var back = await h.StartSiloOnAsync(dir, orphanSweep: Timeout.InfiniteTimeSpan);
        Assert.Contains(Local(back), n => n.StartsWith("default.again.", StringComparison.Ordinal));
        DistributedCollection? again = null;
        Assert.True(await ClusterHarness.WaitUntilAsync(async () =>
        {
            again = await db.CreateCollectionAsync("again", Options, shards: 3, replicationFactor: 3); // R = 3 needs the silo back
            return true;
        }, TimeSpan.FromSeconds(60)), "the collection could not be created again on three silos within 60 s");
        Assert.Equal(0, await again!.CountAsync());
        var ids = ClusterTestData.Ids(50, first: 10_000);
        await again.UpsertBatchAsync(ids, ClusterTestData.Random(50, Dim, seed: 7));
        Assert.Equal(50, await again.CountAsync());
        var layout = await again.GetLayoutAsync();
        Assert.Contains(layout.Shards, p => p.Members().Contains(Address(back)));
        foreach (var p in layout.Shards)
            foreach (var member in p.Members())
                Assert.Equal(ids.Count(id => layout.ShardOf(id) == p.Shard), await h.Copy(layout, p.Shard, member).CountAsync());
    }

    [Fact]
    public async Task AHandleOfADroppedCollectionWritesNothingIntoItsNamesake()
    {
        await using var h = await ClusterHarness.StartAsync(3);
        var db = h.Database();
        var old = await db.CreateCollectionAsync("twice", Options, shards: 3, replicationFactor: 2);
        await old.UpsertBatchAsync(ClusterTestData.Ids(30), ClusterTestData.Random(30, Dim, seed: 8));
        var dropped = await old.GetLayoutAsync();
        Assert.True(await db.DropCollectionAsync("twice"));
        var fresh = await db.CreateCollectionAsync("twice", Options, shards: 2, replicationFactor: 2);
        var layout = await fresh.GetLayoutAsync();
        Assert.True(layout.Version > dropped.Version, $"version {layout.Version} after a drop at {dropped.Version}");
        Assert.NotEqual(dropped.Incarnation, layout.Incarnation);

        // The old handle still routes by three shards and epoch 1, which the new shards also start at.
        var ids = ClusterTestData.Ids(60, first: 500);
        var e = await Assert.ThrowsAsync<InvalidArgumentException>(() => old.UpsertBatchAsync(ids, ClusterTestData.Random(60, Dim, seed: 9)));
        Assert.Contains("dropped and created again", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, await fresh.CountAsync());
        await fresh.UpsertBatchAsync(ids, ClusterTestData.Random(60, Dim, seed: 9));
        Assert.Equal(60, await fresh.CountAsync());
        // Once refused, every call of the old handle is.
        await Assert.ThrowsAsync<InvalidArgumentException>(() => old.SearchAsync(new float[Dim], new SearchOptions { K = 5 }));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => old.GetBatchAsync(ids));

        // The same shape again (same shards on the same silos, epochs at 1): a stale handle's search would read the new
        // collection as its own, but its copies refuse the query.
        var before = await db.CreateCollectionAsync("same", Options, shards: 2, replicationFactor: 2);
        await before.UpsertBatchAsync(ClusterTestData.Ids(20), ClusterTestData.Random(20, Dim, seed: 10));
        Assert.True(await db.DropCollectionAsync("same"));
        var after = await db.CreateCollectionAsync("same", Options, shards: 2, replicationFactor: 2);
        await after.UpsertBatchAsync(ClusterTestData.Ids(20, first: 100), ClusterTestData.Random(20, Dim, seed: 11));
        var stale = await Assert.ThrowsAsync<InvalidArgumentException>(() => before.SearchAsync(new float[Dim], new SearchOptions { K = 5 }));
        Assert.Contains("dropped and created again", stale.Message, StringComparison.Ordinal);
    }

    private static string Address(InProcessSiloHandle silo) => silo.SiloAddress.ToParsableString();

    private static string[] Local(InProcessSiloHandle silo) =>
        [.. silo.ServiceProvider.GetRequiredService<ShardStore>().Database.CollectionNames];

    private static void Fill(Collection c, int n) =>
        c.UpsertBatch(ClusterTestData.Ids(n), ClusterTestData.Random(n, Dim, seed: 9), null);
}

/// <summary>The rule itself, on hand-made layouts.</summary>
public class OrphanedCopyRuleTests
{
    private static ClusterLayout Layout(params ShardPlacement[] shards) => new() { Database = "d", Collection = "c", Version = 7, Shards = shards };

    private static readonly ShardPlacement Shard0 = new() { Shard = 0, Epoch = 1, Primary = "a", Replicas = ["b"], Learners = ["c"], LearnerSessions = [3] };

    [Fact]
    public void OnlyARecordedDropOrAShardServedByAnActivePrimaryElsewhereFreesACopy()
    {
        var active = new HashSet<string> { "a", "b", "c", "x" };
        Assert.True(OrphanedCopy.IsOrphaned(Layout(Shard0), dropped: false, 0, "x", active));
        Assert.False(OrphanedCopy.IsOrphaned(Layout(Shard0), false, 0, "a", active)); // primary
        Assert.False(OrphanedCopy.IsOrphaned(Layout(Shard0), false, 0, "b", active)); // replica
        Assert.False(OrphanedCopy.IsOrphaned(Layout(Shard0), false, 0, "c", active)); // learner
        Assert.False(OrphanedCopy.IsOrphaned(Layout(Shard0), false, 0, "x", new HashSet<string> { "b", "x" })); // primary not active
        Assert.False(OrphanedCopy.IsOrphaned(Layout(Shard0), false, 1, "x", active)); // a shard the layout does not have
        Assert.False(OrphanedCopy.IsOrphaned(null, dropped: false, 0, "x", active)); // layout missing, no drop recorded
        Assert.True(OrphanedCopy.IsOrphaned(null, dropped: true, 0, "x", active));
    }

    [Theory]
    [InlineData("default.docs.3.d12", "default", "docs", 3)]
    [InlineData("db.c.0.t1", "db", "c", 0)]
    public void ShardCopyNamesParse(string name, string database, string collection, int shard) =>
        Assert.Equal((database, collection, shard), OrphanedCopy.ShardOf(name));

    [Theory]
    [InlineData("docs")]
    [InlineData("default.docs.3")]
    [InlineData("default.docs.x.d1")]
    [InlineData("default.docs.3.q1")]
    [InlineData("default.docs.3.d")]
    [InlineData("default.docs.3.d-1")]
    [InlineData("a.b.docs.3.d1")]
    [InlineData(".docs.3.d1")]
    public void OtherNamesAreNoShardCopy(string name) => Assert.Null(OrphanedCopy.ShardOf(name));
}
