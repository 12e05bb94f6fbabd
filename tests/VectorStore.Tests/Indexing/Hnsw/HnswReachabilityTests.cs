using VectorStore.Indexing;
using VectorStore.Indexing.Hnsw;
using VectorStore.Ranking;
using Xunit;
using static VectorStore.Tests.Indexing.Hnsw.HnswTestKit;

namespace VectorStore.Tests.Indexing.Hnsw;

/// <summary>
/// Every live vector can be found: no node of the graph is left without a way in on layer 0 (the pruning of full link
/// lists can drop a node's last in-link, and such a vector was never returned, not even for itself at any beam width).
/// A search as wide as the collection returns every live vector.
/// </summary>
public sealed class HnswReachabilityTests
{
    /// <summary>Slots a search with beam and k as large as the graph returns: all it can reach.</summary>
    private static HashSet<int> Reachable(HnswIndex index, ReadOnlySpan<float> query, int nodes)
    {
        var heap = new TopK(nodes);
        index.Search(query, new IndexSearchParameters { Ef = nodes }, null, heap);
        var slots = new int[heap.Count];
        heap.Drain(slots, new float[slots.Length]);
        return [.. slots];
    }

    /// <summary>The shape a user met: SIFT in batches of 3,000 after training on 2,000, sq8, M = 16.</summary>
    [SkippableFact]
    public void EverySiftVectorLoadedInBatchesIsReachable()
    {
        var ds = TestData.RequireShared(TestData.Sift);
        var data = ds.Base;
        var index = Create(data.Slice(0, 2000), "sq8", spec: "hnsw:16");
        for (int start = 0; start < data.Count; start += 3000)
        {
            int n = Math.Min(3000, data.Count - start);
            index.AddBatch(Enumerable.Range(start, n).ToArray(), data.Slice(start, n), threads: 2);
        }
        Assert.Equal(0, index.CountUnreachable());
        Assert.Equal(data.Count, Reachable(index, data.Row(357), data.Count).Count);
    }

    /// <summary>Few links per node (M = 4) on clustered data cut many nodes off before; inserted one by one, in parallel batches, then churned by deletions.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void NoNodeIsCutOffWithFewLinksThroughInsertsAndDeletions(int threads)
    {
        var (data, _) = Clustered(5000 + 3 * HnswIndex.ReachabilityCheckMinInserts, 0, 24, seed: 11);
        var index = Create(data.Slice(0, 1000), "none", spec: "hnsw:4,16");
        for (int start = 0; start < 5000; start += 1000)
            index.AddBatch(Enumerable.Range(start, 1000).ToArray(), data.Slice(start, 1000), threads);
        Assert.Equal(0, index.CountUnreachable()); // each batch is over a hundredth of the graph: a pass after each
        // One by one: below 25,600 live nodes a pass runs every ReachabilityCheckMinInserts inserts, so this count ends on one.
        int singles = 3 * HnswIndex.ReachabilityCheckMinInserts;
        for (int i = 5000; i < 5000 + singles; i++) index.Add(i, data.Row(i));
        int total = 5000 + singles;
        Assert.Equal(0, index.CountUnreachable());
        Assert.Equal(total, Reachable(index, data.Row(0), total).Count);

        var rng = new Random(3);
        var removed = Enumerable.Range(0, total).OrderBy(_ => rng.Next()).Take(1500).ToHashSet();
        foreach (int s in removed) index.Remove(s);
        index.Consolidate();
        Assert.Equal(0, index.CountUnreachable());
        var found = Reachable(index, data.Row(1), total);
        Assert.Equal(total - 1500, found.Count);
        Assert.Empty(found.Intersect(removed));
    }

    /// <summary>
    /// The fewest links allowed (M = 2, 4 on layer 0): a full list has little to give up, and a link given up can cut
    /// off the node it led to; after deletions and their consolidation no live node is cut off.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void WithTwoLinksPerNodeDeletionsLeaveNoNodeCutOff(int seed)
    {
        var (data, _) = Clustered(4000, 0, 16, seed: seed);
        var index = Create(data.Slice(0, 1000), "none", spec: "hnsw:2,8");
        index.AddBatch(Enumerable.Range(0, 4000).ToArray(), data, threads: 2);
        Assert.Equal(0, index.CountUnreachable());
        var rng = new Random(seed);
        foreach (int s in Enumerable.Range(0, 4000).OrderBy(_ => rng.Next()).Take(900)) index.Remove(s);
        index.Consolidate();
        Assert.Equal(0, index.CountUnreachable());
    }
}
