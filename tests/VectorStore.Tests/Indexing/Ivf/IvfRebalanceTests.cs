using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Indexing;
using VectorStore.Indexing.Ivf;
using VectorStore.Ranking;
using Xunit;
using static VectorStore.Tests.Indexing.Ivf.IvfTestSupport;

namespace VectorStore.Tests.Indexing.Ivf;

public class IvfRebalanceTests
{
    /// <summary>Data trained on one distribution, then flooded with another that lands in a few lists.</summary>
    private static (IvfIndex Index, VectorMatrix All, VectorMatrix Queries) Drifted()
    {
        var (initial, _) = Synthetic(3000, 1, 32, normalize: false, seed: 3);
        var ivf = Build(initial, "ivf:32", "sq8", DistanceKind.L2);
        var drift = SyntheticData.Clustered(6040, 32, seed: 11, clusters: 3);
        var added = drift.Slice(0, 6000);
        ivf.AddBatch(Enumerable.Range(3000, 6000).ToArray(), added, 0);
        var all = new VectorMatrix(9000, 32);
        Array.Copy(initial.Data, all.Data, initial.Data.Length);
        Array.Copy(added.Data, 0, all.Data, initial.Data.Length, added.Data.Length);
        return (ivf, all, drift.Slice(6000, 40));
    }

    [Fact]
    public void DriftCrossesTheThresholdAndRebalancingRestoresBalanceAndKeepsEveryEntry()
    {
        var (ivf, all, queries) = Drifted();
        var health = ivf.GetHealth();
        Assert.True(health.NeedsRebalance, $"imbalance {health.ImbalanceFactor} vs baseline {health.BaselineImbalance}");
        var truth = GroundTruth.Compute(all, queries, 10, DistanceKind.L2);
        double before = Recall(Search(ivf, queries, 10, 4), truth, 10);
        long costBefore = ScannedEntries(ivf, queries, 4);

        string summary = ivf.Rebalance(slot => all.Row(slot));
        var after = ivf.GetHealth();
        Assert.False(after.NeedsRebalance, summary);
        Assert.True(after.ImbalanceFactor < health.ImbalanceFactor * 0.6, $"{summary}: {health.ImbalanceFactor} → {after.ImbalanceFactor}");
        Assert.Equal(9000, ivf.Count);
        Assert.Equal(0, after.SpareBytes);
        for (int s = 0; s < 9000; s++) Assert.Equal(ivf.Assign(all.Row(s)), ivf.ListOf(s));
        // The drifted queries now probe balanced lists: less work per probe at no loss of recall.
        double recallAfter = Recall(Search(ivf, queries, 10, 4), truth, 10);
        Assert.True(recallAfter >= before - 0.02, $"recall {before} → {recallAfter}");
        Assert.True(ScannedEntries(ivf, queries, 4) < costBefore, "rebalancing did not reduce the entries scanned");
    }

    [Fact]
    public void RebalancingWithoutFullVectorsReencodesFromCodes()
    {
        var (ivf, all, queries) = Drifted();
        var truth = GroundTruth.Compute(all, queries, 10, DistanceKind.L2);
        ivf.Rebalance(vectors: null);
        Assert.Equal(9000, ivf.Count);
        Assert.True(Recall(Search(ivf, queries, 10, 32), truth, 10) >= 0.8);
    }

    [Fact]
    public void PlanIsRefusedAfterTheIndexChanged()
    {
        var (ivf, all, _) = Drifted();
        var plan = ivf.PlanRebalance(slot => all.Row(slot), force: true);
        ivf.Remove(5);
        Assert.Throws<InvalidOperationException>(() => ivf.ApplyRebalance(plan));
    }

    [Fact]
    public void DeletesLeaveSpareCapacityThatRebalancingReturns()
    {
        var (data, _) = Synthetic(4000, 1, 16, normalize: false);
        var ivf = Build(data, "ivf:16", "sq8", DistanceKind.L2);
        long fresh = ivf.MemoryBytes;
        int entry = ivf.Codec.CodeSize + sizeof(int);
        int removed = 0;
        for (int s = 0; s < 4000; s++) if (s % 10 < 6) { ivf.Remove(s); removed++; }
        var health = ivf.GetHealth();
        Assert.Equal((long)removed * entry, health.SpareBytes);
        Assert.True(ivf.NeedsRebalance, "60 % spare capacity should cross the 50 % spare threshold");
        ivf.Rebalance(slot => data.Row(slot));
        Assert.Equal(0, ivf.GetHealth().SpareBytes);
        Assert.Equal(fresh - (long)removed * entry, ivf.MemoryBytes);
    }

    [Fact]
    public async Task CollectionKeepsServingSearchesWhileWritesTriggerRebalancing()
    {
        var (initial, _) = Synthetic(3000, 1, 32, normalize: false, seed: 3);
        var drift = SyntheticData.Clustered(6000, 32, seed: 11, clusters: 3);
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", new CollectionOptions
        {
            Dimension = 32, Metric = Metric.L2, Compression = "sq8", Index = "ivf:32", TrainingThreshold = 3000,
        });
        c.UpsertBatch(Enumerable.Range(0, 3000).Select(i => (ulong)i).ToArray(), initial);
        using var stop = new CancellationTokenSource();
        var errors = new List<Exception>();
        int searches = 0;
        var readers = Enumerable.Range(0, 2).Select(t => Task.Factory.StartNew(() =>
        {
            var q = drift.Row(t);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var hits = c.Search(q, new SearchOptions { K = 10, NProbe = 8 });
                    if (hits.Length != 10 || hits.Select(h => h.Id).Distinct().Count() != 10) throw new Exception("bad result set");
                    Interlocked.Increment(ref searches);
                }
                catch (Exception e)
                {
                    lock (errors) errors.Add(e);
                    return;
                }
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        var firstSearch = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref searches) == 0 && errors.Count == 0)
        {
            Assert.True(firstSearch.Elapsed < TimeSpan.FromMinutes(2), "no search finished within 2 minutes");
            Thread.Sleep(1);
        }
        int searchesBeforeWrites = Volatile.Read(ref searches);
        for (int b = 0; b < 60; b++)
        {
            var ids = Enumerable.Range(3000 + b * 100, 100).Select(i => (ulong)i).ToArray();
            c.UpsertBatch(ids, drift.Slice(b * 100, 100));
            if (b % 3 == 0) c.Delete((ulong)(b * 40));
        }
        c.Rebalance(force: true);
        stop.Cancel();
        await Task.WhenAll(readers);
        Assert.Empty(errors);
        Assert.True(searches > searchesBeforeWrites, "no search completed while the writes and the rebalance ran");
        Assert.Equal(9000 - 20, c.Count);
        var ivf = (IvfIndex)c.Index!;
        Assert.Equal(c.Count, ivf.Count);
        Assert.False(ivf.NeedsRebalance);
    }

    private static long ScannedEntries(IvfIndex ivf, VectorMatrix queries, int nprobe)
    {
        long total = 0;
        var centroids = ivf.Centroids.ToArray();
        for (int q = 0; q < queries.Count; q++)
        {
            var d = Enumerable.Range(0, ivf.NList)
                .Select(l => (l, VectorStore.Distance.SquaredL2.Compute(queries.Row(q), centroids.AsSpan(l * ivf.Dimension, ivf.Dimension))))
                .OrderBy(x => x.Item2).Take(nprobe);
            total += d.Sum(x => ivf.ListSize(x.l));
        }
        return total;
    }
}
