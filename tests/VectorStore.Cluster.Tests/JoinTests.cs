using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using VectorStore.Cluster.Hosting;
using VectorStore.Cluster.Layout;
using VectorStore.Collections;
using Xunit;
using Xunit.Abstractions;

namespace VectorStore.Cluster.Tests;

/// <summary>Step 7: a silo joins under load; replicas move to it by copy and catch-up, then a layout switch.</summary>
[Trait("Category", "Cluster")]
public class JoinTests(ITestOutputHelper output)
{
    [Fact]
    public async Task AJoiningSiloTakesItsShareUnderLoadWithoutLosingAWrite()
    {
        await using var h = await ClusterHarness.StartAsync(3);
        var c = await h.Database(FailoverTests.Coordinator).CreateCollectionAsync("join",
            new CollectionOptions { Dimension = FailoverTests.Dim, Metric = Metric.L2, Compression = "sq8", TrainingThreshold = 1_000_000, MaxTrainingSample = 256, Fields = SearchTests.Fields },
            shards: 6, replicationFactor: 2);
        // Trained first, so each move also ships the shared training sample and the new copy trains the same codec.
        var initial = ClusterTestData.Ids(2400, first: 1_000_000);
        await c.UpsertBatchAsync(initial, ClusterTestData.Random(2400, FailoverTests.Dim, seed: 3), null, initial.Select(SearchTests.FieldsOf).ToArray());
        await c.BuildIndexAsync();
        var load = new LoadGenerator(c, FailoverTests.Dim, firstId: 1);
        load.Start(writers: 2, batch: 20, searchK: 10);
        await Task.Delay(1000);

        var before = await c.GetLayoutAsync();
        var clock = Stopwatch.StartNew();
        var joined = await h.Cluster.StartAdditionalSiloAsync();
        string added = joined.SiloAddress.ToParsableString();
        bool balanced = await ClusterHarness.WaitUntilAsync(async () => Balanced(await c.GetLayoutAsync(), added), TimeSpan.FromSeconds(90));
        var moveTime = clock.Elapsed;
        await Task.Delay(500);
        await load.StopAsync();
        Assert.True(balanced, "the new silo did not receive its share within 90 s");

        var after = await c.GetLayoutAsync();
        output.WriteLine($"moved {after.Shards.Count(p => p.Members().Contains(added))} replicas in {moveTime.TotalSeconds:F1} s; acked {load.Acknowledged.Count}, " +
            $"failed write calls {load.FailedWrites}; searches complete {load.CompleteSearches}, partial {load.PartialSearches}; layout v{before.Version} -> v{after.Version}");
        Assert.Empty(load.Violations);
        Assert.True(load.CompleteSearches > 0);
        await FailoverTests.AssertEveryAcknowledgedIdIsOnEveryCopyAsync(h, c, load);
        Assert.Equal(2400 + load.Acknowledged.Count, await c.CountAsync());

        // A retired source dropped its copy; the new silo's copies are trained with the shared sample.
        foreach (var silo in h.Cluster.Silos)
        {
            string address = silo.SiloAddress.ToParsableString();
            var names = silo.ServiceProvider.GetRequiredService<ShardStore>().Database.CollectionNames;
            for (int s = 0; s < after.Shards.Length; s++)
                Assert.Equal(after.Shards[s].Members().Contains(address), names.Any(n => n.StartsWith($"default.join.{s}.d", StringComparison.Ordinal)));
        }
        foreach (var p in after.Shards.Where(p => p.Members().Contains(added)))
        {
            var copy = h.Copy(after, p.Shard, added);
            Assert.Equal(1, (await copy.DescribeAsync()).Generation);
            // The moved copy holds the field values too: its own field index answers a filter as the data says.
            foreach (var where in SearchTests.Wheres)
            {
                var expected = initial.Where(id => after.ShardOf(id) == p.Shard && Matches(where, id)).ToArray();
                var listed = (await copy.IdsAfterAsync(null, int.MaxValue, where)).Where(id => id >= 1_000_000).ToArray();
                Assert.Equal(expected, listed);
            }
        }
    }

    /// <summary>Whether record <paramref name="id"/>'s fields (<see cref="SearchTests.FieldsOf"/>) satisfy the filter text.</summary>
    private static bool Matches(string where, ulong id) =>
        VectorStore.Evaluation.FilterReference.Matches(VectorStore.Filtering.FilterParser.Parse(where), SearchTests.Fields, SearchTests.FieldsOf(id));

    /// <summary>The new silo holds its share (12 copies over 4 silos) and no copy is still being made.</summary>
    internal static bool Balanced(ClusterLayout layout, string added)
    {
        var load = layout.Shards.SelectMany(p => p.Members()).GroupBy(m => m).ToDictionary(g => g.Key, g => g.Count());
        return layout.Shards.All(p => p.Learners.Length == 0 && p.InSync().Length == layout.ReplicationFactor)
            && load.GetValueOrDefault(added) > 0 && load.Values.Max() - load.Values.Min() <= 1;
    }
}
