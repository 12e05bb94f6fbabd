using VectorStore.Indexing;
using VectorStore.Ranking;
using Xunit;

namespace VectorStore.Tests.Indexing;

/// <summary>
/// The bounded top-k (heap below <see cref="TopK.ReservoirMinCapacity"/>, reservoir from it on) against a full sort:
/// it must keep exactly the best k by (distance, slot) whatever the arrival order, ties included.
/// </summary>
public class TopKTests
{
    [Theory]
    [InlineData(1, 50)]
    [InlineData(10, 1000)]
    [InlineData(31, 40)]
    [InlineData(32, 33)]
    [InlineData(100, 5000)]
    [InlineData(100, 80)]
    [InlineData(256, 256)]
    [InlineData(200, 10_000)]
    public void KeepsTheBestByDistanceThenSlotInAnyArrivalOrder(int k, int n)
    {
        foreach (int distinct in new[] { 7, 1000, int.MaxValue })
        {
            var rng = new Random(k * 31 + n + distinct % 97);
            // Few distinct distances force many ties at the boundary (quantized fast-scan estimates look like this).
            var items = Enumerable.Range(0, n)
                .Select(slot => (Slot: slot * 3 + 1, Dist: distinct == int.MaxValue ? (float)rng.NextDouble() : rng.Next(distinct) * 0.25f))
                .ToArray();
            var expected = items.OrderBy(i => i.Dist).ThenBy(i => i.Slot).Take(k).ToArray();
            for (int order = 0; order < 3; order++)
            {
                rng.Shuffle(items);
                var heap = new TopK(k);
                foreach (var (slot, dist) in items)
                {
                    float threshold = heap.Threshold;
                    bool kept = heap.Push(slot, dist);
                    // Anything strictly above the advertised threshold must have been refused.
                    if (dist > threshold) Assert.False(kept);
                }
                Assert.Equal(Math.Min(k, n), heap.Count);
                var slots = new int[k];
                var dists = new float[k];
                int got = heap.Drain(slots, dists);
                Assert.Equal(expected.Length, got);
                Assert.Equal(expected.Select(e => e.Slot), slots.Take(got));
                Assert.Equal(expected.Select(e => e.Dist), dists.Take(got));
                Assert.Equal(0, heap.Count);
                // The unordered drain keeps the same set.
                foreach (var (slot, dist) in items) heap.Push(slot, dist);
                int again = heap.DrainUnordered(slots, dists);
                Assert.Equal(expected.Select(e => (e.Slot, e.Dist)).ToHashSet(), slots.Take(again).Zip(dists.Take(again)).ToHashSet());
            }
        }
    }

    [Fact]
    public void ResetReusesTheHeapForAnotherCapacity()
    {
        var heap = new TopK(100);
        for (int i = 0; i < 1000; i++) heap.Push(i, 1000 - i);
        heap.Reset(3);
        Assert.Equal(float.PositiveInfinity, heap.Threshold);
        for (int i = 0; i < 10; i++) heap.Push(i, i);
        var slots = new int[3];
        Assert.Equal(3, heap.Drain(slots, new float[3]));
        Assert.Equal([0, 1, 2], slots);
        Assert.Throws<InvalidArgumentException>(() => heap.Reset(0));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(64)]
    public void NaNRanksLastInBothLayouts(int k)
    {
        var heap = new TopK(k);
        heap.Push(0, float.NaN);
        for (int i = 1; i < k - 1; i++) heap.Push(i, i);
        heap.Push(k, float.NaN);
        heap.Push(k + 1, 0.5f);
        var slots = new int[k];
        var dists = new float[k];
        Assert.Equal(k, heap.Drain(slots, dists));
        Assert.Equal(k + 1, slots[0]);
        Assert.Equal(0, slots[^1]); // the NaN with the smaller slot, as +∞
        Assert.Equal(float.PositiveInfinity, dists[^1]);
    }

    /// <summary>
    /// Entries are ranked through one integer key per (distance, slot): negative distances (inner products), −0 and
    /// +0, subnormals and infinities must rank exactly as float comparison does, with ties by slot, and come back
    /// with the distance they went in with (−0 as 0).
    /// </summary>
    [Theory]
    [InlineData(5)]
    [InlineData(40)]
    public void SignedZeroSubnormalAndInfiniteDistancesRankAsFloatsDo(int k)
    {
        float[] special = [float.NegativeInfinity, -3.3e38f, -1f, -1e-40f, -0f, 0f, 1e-45f, 1e-40f, 1f, 3.4e38f, float.PositiveInfinity];
        var rng = new Random(k);
        var items = Enumerable.Range(0, 400)
            .Select(slot => (Slot: slot, Dist: rng.Next(3) == 0 ? special[rng.Next(special.Length)] : (float)(rng.NextDouble() * 4 - 2)))
            .ToArray();
        rng.Shuffle(items);
        var expected = items.Select(i => (i.Slot, Dist: i.Dist == 0 ? 0f : i.Dist)).OrderBy(i => i.Dist).ThenBy(i => i.Slot).Take(k).ToArray();
        var heap = new TopK(k);
        foreach (var (slot, dist) in items) heap.Push(slot, dist);
        var slots = new int[k];
        var dists = new float[k];
        Assert.Equal(k, heap.Drain(slots, dists));
        Assert.Equal(expected.Select(e => e.Slot), slots);
        Assert.Equal(expected.Select(e => BitConverter.SingleToInt32Bits(e.Dist)), dists.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void KeysRoundTripEveryDistanceClass()
    {
        foreach (float d in new[] { float.NegativeInfinity, -float.MaxValue, -1f, -float.Epsilon, 0f, float.Epsilon, 1f, float.MaxValue, float.PositiveInfinity })
        foreach (int slot in new[] { 0, 1, 12345, int.MaxValue })
        {
            ulong key = TopK.KeyOf(slot, d);
            Assert.Equal(slot, TopK.SlotOf(key));
            Assert.Equal(BitConverter.SingleToInt32Bits(d), BitConverter.SingleToInt32Bits(TopK.DistanceOf(key)));
        }
        Assert.Equal(TopK.KeyOf(7, 0f), TopK.KeyOf(7, -0f));
        Assert.Equal(TopK.KeyOf(7, float.PositiveInfinity), TopK.KeyOf(7, float.NaN));
    }
}
