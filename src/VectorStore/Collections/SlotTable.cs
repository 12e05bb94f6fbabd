using VectorStore.Memory;

namespace VectorStore.Collections;

/// <summary>
/// Which slot holds which id: the compact id map (<see cref="IdMap"/>), the live bitmap, the free slots a deletion
/// leaves (reused before the table grows) and the high-water mark. Every per-slot structure of a collection (codes,
/// vectors, field values) is indexed by these slots.
/// Thread-safety: lookups may run concurrently with each other; <see cref="Place"/>, <see cref="Remove"/> and
/// <see cref="Restore"/> need exclusive access (the collection's write lock).
/// </summary>
internal sealed class SlotTable
{
    private readonly IdMap _ids = new();
    private readonly Stack<int> _free = new();
    private readonly SlotBitmap _live = new(1024);

    /// <summary>Ids present.</summary>
    public int Count => _ids.Count;

    /// <summary>One past the highest slot ever used.</summary>
    public int HighWater { get; private set; }

    /// <summary>The id of each slot (meaningful for live slots only). The array is replaced when the table grows.</summary>
    public ulong[] Ids => _ids.Ids;

    /// <summary>The live bitmap, one bit per slot (covering at least <see cref="HighWater"/>). Replaced when the table grows.</summary>
    public ulong[] LiveBits => _live.Words;

    /// <summary>Bytes held: the id map and the live bitmap.</summary>
    public long MemoryBytes => _ids.MemoryBytes + _live.MemoryBytes + (long)_free.Count * sizeof(int);

    /// <summary>The slot of <paramref name="id"/>.</summary>
    public bool TryGetSlot(ulong id, out int slot) => _ids.TryGetValue(id, out slot);

    /// <summary>Whether <paramref name="id"/> is present.</summary>
    public bool Contains(ulong id) => _ids.ContainsKey(id);

    /// <summary>
    /// <see cref="HighWater"/> once <paramref name="ids"/> (distinct) are placed: the new ones take free slots first,
    /// then slots above the mark.
    /// </summary>
    public long HighWaterAfter(IReadOnlyList<ulong> ids)
    {
        long added = 0;
        for (int i = 0; i < ids.Count; i++)
            if (!_ids.ContainsKey(ids[i])) added++;
        return HighWater + Math.Max(0, added - _free.Count);
    }

    /// <summary>Whether <paramref name="slot"/> holds a live id.</summary>
    public bool IsLive(int slot) => slot < HighWater && _live.Contains(slot);

    /// <summary>
    /// The slot of <paramref name="id"/>: its current one (<paramref name="added"/> false), or a free or new one
    /// marked live (<paramref name="added"/> true).
    /// </summary>
    public int Place(ulong id, out bool added)
    {
        if (_ids.TryGetValue(id, out int slot))
        {
            added = false;
            return slot;
        }
        slot = _free.Count > 0 ? _free.Pop() : HighWater++;
        EnsureCapacity(slot);
        _ids.TryAdd(id, slot);
        _live.Add(slot);
        added = true;
        return slot;
    }

    /// <summary>Removes <paramref name="id"/>, returning the slot it held (now free); false when absent.</summary>
    public bool Remove(ulong id, out int slot)
    {
        if (!_ids.Remove(id, out slot)) return false;
        _live.Remove(slot);
        _free.Push(slot);
        return true;
    }

    /// <summary>The live slots, ascending.</summary>
    public int[] LiveSlots() => _live.ToArray();

    /// <summary>
    /// Fills an empty table from a snapshot: <paramref name="liveBits"/> and <paramref name="ids"/> over
    /// <paramref name="highWater"/> slots, sized exactly (doubling slack would be resident memory). Calls
    /// <paramref name="onLive"/> for each live slot. An id in two slots is a <see cref="StoreCorruptedException"/>
    /// naming <paramref name="path"/>.
    /// </summary>
    public void Restore(int highWater, ulong[] liveBits, ulong[] ids, string path, Action<int> onLive)
    {
        if (Count != 0 || HighWater != 0) throw new InvalidOperationException("restore into a non-empty slot table");
        if (highWater > 0) EnsureCapacity(highWater - 1, exact: true);
        HighWater = highWater;
        _live.Load(liveBits.AsSpan(0, SlotBitmap.WordsFor(highWater)));
        // Descending, so the lowest free slot is reused first.
        for (int s = highWater - 1; s >= 0; s--)
        {
            if (!IsLive(s))
            {
                _free.Push(s);
                continue;
            }
            if (!_ids.TryAdd(ids[s], s)) throw new StoreCorruptedException(path, $"id {ids[s]} appears in two slots");
            onLive(s);
        }
    }

    private void EnsureCapacity(int slot, bool exact = false)
    {
        _ids.EnsureSlots(slot + 1, exact);
        _live.EnsureCapacity(_ids.Ids.Length);
    }
}
