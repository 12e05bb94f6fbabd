using Microsoft.Extensions.DependencyInjection;
using VectorStore.Cluster.Hosting;
using VectorStore.Cluster.Shards;
using VectorStore.Collections;
using VectorStore.Distance;
using Xunit;

namespace VectorStore.Cluster.Tests;

/// <summary>Steps 2 and 3: shards are collections in their silos' own databases; writes reach R copies bit for bit.</summary>
[Collection(ThreeSilos.Name)]
[Trait("Category", "Cluster")]
public class ShardTests(ThreeSiloFixture fixture)
{
    private ClusterHarness H => fixture.Harness;

    [Fact]
    public async Task LayoutIsStoredAndEachShardCopyLivesOnlyInItsSilosDatabase()
    {
        var db = H.Database();
        var c = await db.CreateCollectionAsync("placed", new CollectionOptions { Dimension = 8, Compression = "none" }, shards: 6, replicationFactor: 2);
        var layout = await c.GetLayoutAsync();
        Assert.Equal(6, layout.Shards.Length);
        Assert.Equal(2, layout.ReplicationFactor);
        Assert.Contains("placed", await db.CollectionNamesAsync());
        Assert.Contains(Directory.GetFiles(Path.Combine(H.Root, "metadata")), f => f.Contains("placed"));
        // Any coordinator reads the same layout.
        var again = await new DistributedDatabase(H.Grains).GetCollectionAsync("placed");
        Assert.Equal(layout.Version, (await again.GetLayoutAsync()).Version);

        foreach (var silo in H.Cluster.Silos)
        {
            var local = silo.ServiceProvider.GetRequiredService<ShardStore>().Database;
            string address = silo.SiloAddress.ToParsableString();
            Assert.StartsWith(H.Root, local.Directory!);
            for (int s = 0; s < 6; s++)
            {
                bool member = layout.Shards[s].Members().Contains(address);
                bool holds = local.CollectionNames.Any(n => n.StartsWith($"default.placed.{s}.", StringComparison.Ordinal));
                Assert.True(member == holds, $"shard {s} on {silo.Name}: member {member}, holds {holds}");
            }
        }
        foreach (var p in layout.Shards)
        {
            Assert.Equal(ShardRole.Primary, (await H.Copy(layout, p.Shard, p.Primary).DescribeAsync()).Role);
            Assert.Equal(ShardRole.Replica, (await H.Copy(layout, p.Shard, p.Replicas[0]).DescribeAsync()).Role);
        }
        Assert.True(await db.DropCollectionAsync("placed"));
        Assert.DoesNotContain("placed", await db.CollectionNamesAsync());
    }

    [Fact]
    public async Task EveryAcknowledgedWriteIsOnRCopiesBitIdentical()
    {
        var db = H.Database();
        var c = await db.CreateCollectionAsync("copies", new CollectionOptions { Dimension = 16, Metric = Metric.Cosine, Compression = "none" }, shards: 4, replicationFactor: 3);
        var vectors = ClusterTestData.Random(600, 16, seed: 7);
        var ids = ClusterTestData.Ids(600, first: 1000);
        var payloads = ids.Select(id => (byte[]?)BitConverter.GetBytes(id * 3)).ToArray();
        await c.UpsertBatchAsync(ids, vectors, payloads);
        Assert.True(await c.DeleteAsync(1005));
        Assert.False(await c.DeleteAsync(1005));
        Assert.Equal(599, await c.CountAsync());

        var layout = await c.GetLayoutAsync();
        for (int i = 0; i < ids.Length; i++)
        {
            var expected = vectors.Row(i).ToArray();
            Distances.Normalize(expected); // what the engine stores for a cosine collection
            var p = layout.Shards[layout.ShardOf(ids[i])];
            Assert.Equal(3, p.InSync().Length);
            foreach (var silo in p.InSync())
            {
                var page = await H.Copy(layout, p.Shard, silo).GetAsync([ids[i]]);
                if (ids[i] == 1005) { Assert.Equal(0, page.Count); continue; }
                Assert.Equal(BitConverter.GetBytes(ids[i] * 3), page.Payloads[0]);
                Assert.True(expected.AsSpan().SequenceEqual(page.Vectors), $"id {ids[i]} differs on {silo}");
            }
        }
        var rec = await c.GetAsync(1001);
        Assert.NotNull(rec);
        Assert.Null(await c.GetAsync(1005));
    }

    [Fact]
    public async Task BadInputIsATypedErrorBeforeAnythingIsWritten()
    {
        var db = H.Database();
        var c = await db.CreateCollectionAsync("errors", new CollectionOptions { Dimension = 4, Compression = "none" }, shards: 2);
        await Assert.ThrowsAsync<InvalidVectorException>(() => c.UpsertBatchAsync([1], new VectorMatrix(new float[3], 3)));
        await Assert.ThrowsAsync<InvalidVectorException>(() => c.UpsertBatchAsync([1], new VectorMatrix([1, float.NaN, 0, 0], 4)));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => c.UpsertBatchAsync([1, 1], new VectorMatrix([1, 0, 0, 0, 0, 1, 0, 0], 4)));
        await Assert.ThrowsAsync<InvalidVectorException>(() => c.UpsertBatchAsync([1, 2], new VectorMatrix([1, 0, 0, 0, 0, 0, 0, 0], 4))); // zero under cosine
        await Assert.ThrowsAsync<InvalidVectorException>(() => c.SearchAsync(new float[4]));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => c.SearchAsync(new float[4], new SearchOptions { K = 0 }));
        Assert.Equal(0, await c.CountAsync());
        // Raised inside the cluster (catalog grain) and delivered as the engine's own type.
        await Assert.ThrowsAsync<InvalidArgumentException>(() => db.CreateCollectionAsync("errors", new CollectionOptions { Dimension = 4 }));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => db.GetCollectionAsync("missing"));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => db.CreateCollectionAsync("bad/name", new CollectionOptions { Dimension = 4 }));
        // '.' separates the parts of a shard's local collection name, so "a.1" would collide with "a" shard 1's copies.
        await Assert.ThrowsAsync<InvalidArgumentException>(() => db.CreateCollectionAsync("errors.1", new CollectionOptions { Dimension = 4 }));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => db.CreateCollectionAsync("badspec", new CollectionOptions { Dimension = 4, Compression = "zip" }));
        await Assert.ThrowsAsync<InvalidArgumentException>(() => db.CreateCollectionAsync("toomany", new CollectionOptions { Dimension = 4 }, replicationFactor: 4));
    }
}
