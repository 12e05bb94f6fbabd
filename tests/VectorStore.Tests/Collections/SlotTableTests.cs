using VectorStore.Collections;
using Xunit;

namespace VectorStore.Tests.Collections;

/// <summary>
/// The slot table every per-slot structure of a collection is indexed by: ids get slots, a deleted id's slot is
/// reused before the table grows, the live bitmap follows, and a snapshot restores it exactly (refusing an id in two
/// slots by the snapshot's name).
/// </summary>
public sealed class SlotTableTests
{
    [Fact]
    public void IdsGetSlotsAndFreedSlotsAreReusedBeforeTheTableGrows()
    {
        var t = new SlotTable();
        for (ulong id = 100; id < 3100; id++) Assert.Equal((int)(id - 100), t.Place(id, out bool added) is var s && added ? s : -1);
        Assert.Equal(3000, t.Count);
        Assert.Equal(3000, t.HighWater);
        Assert.Equal(7, t.Place(107, out bool again));
        Assert.False(again);
        Assert.True(t.Remove(205, out int freed));
        Assert.Equal(105, freed);
        Assert.False(t.Remove(205, out _));
        Assert.False(t.IsLive(105));
        Assert.False(t.Contains(205));
        Assert.Equal(105, t.Place(9999, out bool reused));
        Assert.True(reused);
        Assert.Equal(3000, t.HighWater);
        Assert.True(t.IsLive(105));
        Assert.True(t.TryGetSlot(9999, out int slot) && slot == 105);
        Assert.Equal(9999UL, t.Ids[105]);
        Assert.False(t.IsLive(3000));
        Assert.Equal(Enumerable.Range(0, 3000), t.LiveSlots());
    }

    [Fact]
    public void RestoreRebuildsTheTableAndReusesTheLowestFreeSlotFirst()
    {
        var live = new ulong[2];
        var ids = new ulong[70];
        foreach (int s in new[] { 0, 2, 3, 64, 69 })
        {
            live[s >> 6] |= 1UL << (s & 63);
            ids[s] = (ulong)(1000 + s);
        }
        var t = new SlotTable();
        var seen = new List<int>();
        t.Restore(70, live, ids, "snap-1.vss", seen.Add);
        Assert.Equal([69, 64, 3, 2, 0], seen);
        Assert.Equal(5, t.Count);
        Assert.Equal(70, t.HighWater);
        Assert.Equal([0, 2, 3, 64, 69], t.LiveSlots());
        Assert.True(t.TryGetSlot(1064, out int s64) && s64 == 64);
        Assert.Equal(1, t.Place(5, out _));
        Assert.Equal(4, t.Place(6, out _));
        Assert.Throws<InvalidOperationException>(() => t.Restore(70, live, ids, "snap-1.vss", _ => { }));
    }

    [Fact]
    public void RestoreRefusesAnIdInTwoSlotsNamingTheSnapshot()
    {
        var live = new ulong[] { 0b11 };
        var e = Assert.Throws<StoreCorruptedException>(() => new SlotTable().Restore(2, live, [7, 7], "snap-9.vss", _ => { }));
        Assert.Contains("snap-9.vss", e.Message);
        Assert.Contains("id 7 appears in two slots", e.Message);
    }
}
