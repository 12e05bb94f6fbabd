using VectorStore.Memory;
using Xunit;

namespace VectorStore.Tests.Memory;

/// <summary><see cref="SlotBitmap"/> against a set of ints: random operations across word boundaries and growth, and atomic setting from many threads.</summary>
public sealed class SlotBitmapTests
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(64, 2)]
    [InlineData(1000, 3)]
    public void BehavesLikeASetOfSlots(int initialCapacity, int seed)
    {
        var rng = new Random(seed);
        var bitmap = new SlotBitmap(initialCapacity);
        var reference = new SortedSet<int>();
        for (int op = 0; op < 20_000; op++)
        {
            // Mostly near word edges, sometimes far out, so growth happens mid-run.
            int slot = rng.Next(4) == 0 ? rng.Next(5000) : rng.Next(40) * 64 + rng.Next(-1, 2) + 1;
            switch (rng.Next(3))
            {
                case 0: Assert.Equal(reference.Add(slot), bitmap.Add(slot)); break;
                case 1: Assert.Equal(reference.Remove(slot), bitmap.Remove(slot)); break;
                default: Assert.Equal(reference.Contains(slot), bitmap.Contains(slot)); break;
            }
        }
        Assert.Equal(reference.Count, bitmap.Count());
        Assert.Equal(reference.ToArray(), bitmap.ToArray());
        Assert.False(bitmap.Contains(bitmap.Capacity + 5));
        Assert.False(bitmap.Remove(bitmap.Capacity + 5));
        Assert.False(bitmap.Contains(-1));
        foreach (var (from, end) in new[] { (0, 5000), (63, 64), (64, 65), (100, 100), (4990, 1 << 20), (700, 1300), (-3, 10) })
        {
            var expected = reference.Where(s => s >= Math.Max(0, from) && s < end).Select(s => (int?)s).FirstOrDefault() ?? end;
            Assert.Equal(expected, bitmap.NextSet(from, end));
        }
        var walked = new List<int>();
        for (int s = bitmap.NextSet(0, 6000); s < 6000; s = bitmap.NextSet(s + 1, 6000)) walked.Add(s);
        Assert.Equal(reference.ToArray(), walked.ToArray());
    }

    [Fact]
    public void LoadReplacesTheBitsAndCapacityGrowsExactlyUnlessAsked()
    {
        var bitmap = new SlotBitmap(64);
        bitmap.Add(3);
        bitmap.Load([0b101UL, 0, 1UL << 63]);
        Assert.Equal([0, 2, 191], bitmap.ToArray());
        Assert.Equal(192, bitmap.Capacity);
        bitmap.EnsureCapacity(200);
        Assert.Equal(256, bitmap.Capacity);
        bitmap.EnsureCapacity(300, grow: true);
        Assert.Equal(384, bitmap.Capacity); // half again 4 words = 6 words
        Assert.Equal([0, 2, 191], bitmap.ToArray());
        bitmap.Clear();
        Assert.Equal(0, bitmap.Count());
    }

    [Fact]
    public void AtomicAddsFromManyThreadsReportEachSlotOnce()
    {
        const int Slots = 50_000;
        var bitmap = new SlotBitmap(Slots);
        int firsts = 0;
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            var rng = new Random(t);
            int mine = 0;
            for (int i = 0; i < Slots; i++)
                if (bitmap.AddAtomic((i * 7 + t * 13 + rng.Next(3)) % Slots)) mine++;
            Interlocked.Add(ref firsts, mine);
        });
        Assert.Equal(bitmap.Count(), firsts);
    }
}
