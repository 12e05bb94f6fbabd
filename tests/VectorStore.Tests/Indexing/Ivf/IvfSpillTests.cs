using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Indexing;
using VectorStore.Indexing.Ivf;
using VectorStore.Quantization;
using VectorStore.Ranking;
using Xunit;
using static VectorStore.Tests.Indexing.Ivf.IvfTestSupport;

namespace VectorStore.Tests.Indexing.Ivf;

/// <summary><c>ivf:…,spill</c>: every entry in its nearest list and a second (SOAR) list.</summary>
public class IvfSpillTests
{
    /// <summary>Every live slot sits exactly once in its first list and once in a different second list; nothing else is stored.</summary>
    private static void AssertPaired(IvfIndex ivf, IEnumerable<int> live)
    {
        var expected = new Dictionary<int, int>();
        foreach (int s in live)
        {
            int a = ivf.ListOf(s), b = ivf.SpillListOf(s);
            Assert.True(a >= 0 && b >= 0 && a != b, $"slot {s}: lists {a}, {b}");
            expected[s] = 2;
        }
        var counted = new Dictionary<int, int>();
        for (int l = 0; l < ivf.NList; l++)
        {
            var list = ListSlots(ivf, l);
            foreach (int s in list)
            {
                Assert.True(ivf.ListOf(s) == l || ivf.SpillListOf(s) == l, $"slot {s} in list {l}, mapped to {ivf.ListOf(s)}/{ivf.SpillListOf(s)}");
                counted[s] = counted.GetValueOrDefault(s) + 1;
            }
        }
        Assert.Equal(expected.OrderBy(e => e.Key), counted.OrderBy(e => e.Key));
        Assert.Equal(expected.Count, ivf.Count);
        Assert.Equal(2L * ivf.Count * (ivf.Codec.CodeSize + sizeof(int)), ivf.GetHealth().CodeBytes);
    }

    private static int[] ListSlots(IvfIndex ivf, int list)
    {
        var field = typeof(IvfIndex).GetField("_lists", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        var l = ((IvfList[])field.GetValue(ivf)!)[list];
        return l.Slots.AsSpan(0, l.Count).ToArray();
    }

    [Theory]
    [InlineData("sq8", DistanceKind.NegativeDot)]
    [InlineData("pq:12x4", DistanceKind.NegativeDot)]
    [InlineData("pq:12x4", DistanceKind.L2)]
    public void SpillFindsMoreNeighboursAtEqualNProbeAndNeverReturnsAnEntryTwice(string compression, DistanceKind kind)
    {
        // Many small overlapping clusters, so true neighbours often straddle list boundaries (as on real embeddings).
        var all = SyntheticData.Clustered(6080, 48, seed: 5, clusters: 1500, normalize: kind == DistanceKind.NegativeDot);
        var (data, queries) = (all.Slice(0, 6000), all.Slice(6000, 80));
        var plain = Build(data, "ivf:64", compression, kind);
        var spilled = Build(data, "ivf:64,spill", compression, kind);
        Assert.True(spilled.Spill);
        Assert.Equal("ivf:64,spill", spilled.Spec);
        AssertPaired(spilled, Enumerable.Range(0, data.Count));
        var truth = GroundTruth.Compute(data, queries, 10, kind);
        foreach (int nprobe in new[] { 2, 4, 8 })
        {
            // What re-ranking can recover: the share of the true top 10 among the 100 candidates.
            var found = Search(spilled, queries, 100, nprobe);
            Assert.All(found, r => Assert.Equal(r.Length, r.Distinct().Count()));
            double rp = CandidateRecall(Search(plain, queries, 100, nprobe), truth);
            double rs = CandidateRecall(found, truth);
            Assert.True(rs >= rp + 0.03, $"nprobe {nprobe}: spill candidate recall {rs:F3} vs {rp:F3} without");
        }
    }

    private static double CandidateRecall(int[][] found, int[][] truth) =>
        found.Select((r, q) => truth[q].Take(10).Count(r.Contains) / 10.0).Average();

    [Fact]
    public void RemovesAndReAddsKeepBothCopiesInStep()
    {
        var (data, queries) = Synthetic(3000, 20, 32, normalize: true);
        var ivf = Build(data, "ivf:32,4,residual,spill", "pq:16x4", DistanceKind.NegativeDot);
        Assert.True(ivf.Residual && ivf.Spill);
        for (int s = 0; s < data.Count; s += 3) ivf.Remove(s);
        AssertPaired(ivf, Enumerable.Range(0, data.Count).Where(s => s % 3 != 0));
        for (int s = 0; s < data.Count; s += 6) ivf.Add(s, data.Row(s));
        ivf.AddBatch([1, 2, 4], new VectorMatrix(data.Data[..(3 * 32)], 32), 0); // replaces three live slots
        var live = Enumerable.Range(0, data.Count).Where(s => s % 3 != 0 || s % 6 == 0).ToArray();
        AssertPaired(ivf, live);
        Assert.All(Search(ivf, queries, 50, 32), r => Assert.Equal(r.Length, r.Distinct().Count()));
    }

    [Fact]
    public void SnapshotRoundTripIsByteIdenticalAndOnlySpillUsesVersionTwo()
    {
        var (data, queries) = Synthetic(2000, 20, 24, normalize: true);
        var ivf = Build(data, "ivf:24,3,spill", "pq:12x4", DistanceKind.NegativeDot);
        for (int s = 0; s < data.Count; s += 7) ivf.Remove(s);
        var bytes = IndexSnapshots.Snapshot(ivf);
        Assert.Equal(2, bytes[4]); // "ivf" tag (1 length byte + 3 chars), then the format version
        var back = (IvfIndex)IndexRegistry.Read(new BinaryReader(new MemoryStream(bytes)));
        Assert.Equal(bytes, IndexSnapshots.Snapshot(back));
        Assert.Equal("ivf:24,3,spill", back.Spec);
        AssertPaired(back, Enumerable.Range(0, data.Count).Where(s => s % 7 != 0));
        Assert.Equal(Search(ivf, queries, 10, 0), Search(back, queries, 10, 0));
        Assert.Equal(1, IndexSnapshots.Snapshot(Build(data, "ivf:24,3", "pq:12x4", DistanceKind.NegativeDot))[4]);
    }

    [Fact]
    public void SnapshotWhoseSecondCopiesDoNotPairUpIsADataError()
    {
        var (data, _) = Synthetic(600, 1, 8, normalize: false);
        var ivf = Build(data, "ivf:8,spill", "sq8", DistanceKind.L2);
        var bytes = IndexSnapshots.Snapshot(ivf);
        // The lists follow the centroids; list 0's first slot sits 4 bytes after its count.
        int codecBytes;
        using (var ms = new MemoryStream())
        {
            using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) CodecRegistry.Write(ivf.Codec, w);
            codecBytes = (int)ms.Length;
        }
        int firstSlot = 4 + 1 + 1 + codecBytes + 1 + 4 + 4 + 4 + 8 + ivf.NList * 8 * 4 + 4;
        int stored = BitConverter.ToInt32(bytes, firstSlot);
        int slot = stored < 0 ? -(stored + 1) : stored;
        Assert.Contains(slot, ListSlots(ivf, 0));
        // Turn that entry into the other kind of copy: one slot then has two first copies (or two second copies).
        BitConverter.GetBytes(stored < 0 ? slot : -(slot + 1)).CopyTo(bytes, firstSlot);
        var e = Assert.Throws<InvalidDataException>(() => IndexRegistry.Read(new BinaryReader(new MemoryStream(bytes))));
        Assert.Contains("ivf index", e.Message);
    }

    [Fact]
    public void RebalancingReassignsBothCopies()
    {
        var (initial, _) = Synthetic(2000, 1, 32, normalize: false, seed: 3);
        var ivf = Build(initial, "ivf:32,spill", "sq8", DistanceKind.L2);
        var drift = SyntheticData.Clustered(4040, 32, seed: 11, clusters: 3);
        ivf.AddBatch(Enumerable.Range(2000, 4000).ToArray(), drift.Slice(0, 4000), 0);
        var all = new VectorMatrix(6000, 32);
        Array.Copy(initial.Data, all.Data, initial.Data.Length);
        Array.Copy(drift.Data, 0, all.Data, initial.Data.Length, 4000 * 32);
        var queries = drift.Slice(4000, 40);
        var truth = GroundTruth.Compute(all, queries, 10, DistanceKind.L2);
        Assert.True(ivf.GetHealth().NeedsRebalance);
        double before = Recall(Search(ivf, queries, 10, 4), truth, 10);
        var centroidsBefore = ivf.Centroids.ToArray();
        var firstBefore = Enumerable.Range(0, 6000).Select(ivf.ListOf).ToArray();
        var secondBefore = Enumerable.Range(0, 6000).Select(ivf.SpillListOf).ToArray();
        string summary = ivf.Rebalance(slot => all.Row(slot));
        Assert.False(ivf.GetHealth().NeedsRebalance, summary);
        AssertPaired(ivf, Enumerable.Range(0, 6000));
        var changed = Enumerable.Range(0, ivf.NList)
            .Where(l => !centroidsBefore.AsSpan(l * 32, 32).SequenceEqual(ivf.Centroids.Slice(l * 32, 32))).ToHashSet();
        Assert.NotEmpty(changed);
        var coarse = new VectorStore.Clustering.CentroidSet(new VectorMatrix(ivf.Centroids.ToArray(), 32));
        var work = new float[2 * ivf.NList];
        int reassigned = 0;
        for (int s = 0; s < 6000; s++)
        {
            // A vector with either copy in a changed list was placed afresh: nearest list, then its SOAR second list.
            if (!changed.Contains(firstBefore[s]) && !changed.Contains(secondBefore[s])) continue;
            reassigned++;
            Assert.Equal(ivf.Assign(all.Row(s)), ivf.ListOf(s));
            Assert.Equal(IvfIndex.SecondList(coarse, all.Row(s), ivf.ListOf(s), work), ivf.SpillListOf(s));
        }
        Assert.True(reassigned > 0, summary);
        Assert.True(Recall(Search(ivf, queries, 10, 4), truth, 10) >= before - 0.02, summary);
    }

    [Fact]
    public void SplitAndMergeKeepsOneEntryPerCopyAndSurvivesRemoveAndSnapshot()
    {
        // A split/merge rebalance (not a full retrain) on a spill index: a list can lose the copies whose twin sat in
        // a split list and regain as many reassigned ones, which once made it copy its old entries and append the new
        // ones on top (slots stored twice in one list, deleted vectors found again, snapshots that would not load).
        var (initial, _) = Synthetic(3000, 1, 16, normalize: false, seed: 3);
        var ivf = Build(initial, "ivf:32,spill", "sq8", DistanceKind.L2);
        var drift = SyntheticData.Clustered(800, 16, seed: 11, clusters: 2);
        ivf.AddBatch(Enumerable.Range(3000, 800).ToArray(), drift, 0);
        var all = new VectorMatrix(3800, 16);
        Array.Copy(initial.Data, all.Data, initial.Data.Length);
        Array.Copy(drift.Data, 0, all.Data, initial.Data.Length, drift.Data.Length);
        string summary = ivf.Rebalance(slot => all.Row(slot));
        Assert.Contains("split", summary);
        AssertPaired(ivf, Enumerable.Range(0, 3800));
        for (int s = 0; s < 3800; s += 5) ivf.Remove(s);
        var live = Enumerable.Range(0, 3800).Where(s => s % 5 != 0).ToArray();
        AssertPaired(ivf, live);
        var everything = Search(ivf, all.Slice(0, 50), 100, ivf.NList);
        Assert.All(everything, r => Assert.DoesNotContain(r, s => s % 5 == 0));
        var back = (IvfIndex)IndexRegistry.Read(new BinaryReader(new MemoryStream(IndexSnapshots.Snapshot(ivf))));
        AssertPaired(back, live);
    }

    [Fact]
    public void FilteredAndCollectionSearchesReturnDistinctMatches()
    {
        var (data, queries) = Synthetic(5000, 10, 24, normalize: true);
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", new CollectionOptions
        {
            Dimension = 24, Metric = Metric.Cosine, Compression = "pq:12x4", Index = "ivf:32,spill", TrainingThreshold = 2000,
        });
        c.UpsertBatch(Enumerable.Range(0, data.Count).Select(i => (ulong)i).ToArray(), data);
        var allowed = Enumerable.Range(0, data.Count).Where(i => i % 4 == 0).Select(i => (ulong)i).ToHashSet();
        for (int q = 0; q < queries.Count; q++)
        {
            var hits = c.Search(queries.Row(q), new SearchOptions { K = 20, Rerank = 60, NProbe = 4 });
            Assert.Equal(20, hits.Length);
            Assert.Equal(20, hits.Select(h => h.Id).Distinct().Count());
            var filtered = c.Search(queries.Row(q), new SearchOptions { K = 20, NProbe = 4, Filter = new SearchFilter { Ids = allowed } });
            Assert.Equal(20, filtered.Select(h => h.Id).Distinct().Count());
            Assert.All(filtered, h => Assert.Contains(h.Id, allowed));
        }
    }

    [Fact]
    public void SnapshotWithAnImpossibleSlotOrCountIsADataError()
    {
        var (data, _) = Synthetic(300, 1, 8, normalize: false);
        var ivf = Build(data, "ivf:4,spill", "sq8", DistanceKind.L2);
        var bytes = IndexSnapshots.Snapshot(ivf);
        int codecBytes;
        using (var ms = new MemoryStream())
        {
            using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) CodecRegistry.Write(ivf.Codec, w);
            codecBytes = (int)ms.Length;
        }
        int countAt = 4 + 1 + 1 + codecBytes + 1 + 4 + 4 + 4 + 8 + ivf.NList * 8 * 4;
        foreach (int bad in new[] { int.MaxValue, int.MinValue })
        {
            var copy = (byte[])bytes.Clone();
            BitConverter.GetBytes(bad).CopyTo(copy, countAt + 4);
            Assert.Throws<InvalidDataException>(() => IndexRegistry.Read(new BinaryReader(new MemoryStream(copy))));
        }
        var huge = (byte[])bytes.Clone();
        BitConverter.GetBytes(400_000_000).CopyTo(huge, countAt);
        Assert.Throws<EndOfStreamException>(() => IndexRegistry.Read(new BinaryReader(new MemoryStream(huge))));
    }

    [Theory]
    [InlineData("ivf:16,spill,spill")]
    [InlineData("ivf:1,spill")]
    [InlineData("ivf:16,4,residual,spill,x")]
    public void BadSpillSpecsAreRejected(string spec)
    {
        using var db = VectorDatabase.CreateInMemory();
        Assert.Throws<InvalidArgumentException>(() => db.CreateCollection("c", new CollectionOptions { Dimension = 8, Index = spec }));
    }
}
