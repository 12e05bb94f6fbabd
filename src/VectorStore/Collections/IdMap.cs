using System.Numerics;

namespace VectorStore.Collections;

/// <summary>
/// The compact id map of a collection: a slot → id array plus an open-addressing (linear probing, backward-shift
/// deletion) table of slots keyed by the id stored at that slot, so each live id costs its 8-byte array entry and one
/// 4-byte table cell at a load factor between 3/8 and 3/4 — about 13–19 bytes, against about 28–56 for a
/// <see cref="Dictionary{TKey,TValue}"/> of ulong → int.
/// Thread-safety: lookups may run concurrently with each other; mutations need exclusive access (the collection's
/// write lock).
/// </summary>
internal sealed class IdMap
{
    private int[] _table = new int[16]; // slot + 1; 0 = empty
    private int _mask = 15;

    /// <summary>Id of each slot (meaningful for live slots only); grows with <see cref="EnsureSlots"/>.</summary>
    public ulong[] Ids { get; private set; } = new ulong[1024];

    /// <summary>Ids present.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes held: the slot array and the table.</summary>
    public long MemoryBytes => (long)Ids.Length * sizeof(ulong) + (long)_table.Length * sizeof(int);

    /// <summary>
    /// Makes <see cref="Ids"/> hold at least <paramref name="slots"/> entries: doubling for inserts, exactly with
    /// <paramref name="exact"/> (restoring a snapshot, whose size is known: doubling slack would be resident memory).
    /// </summary>
    public void EnsureSlots(int slots, bool exact = false)
    {
        if (slots <= Ids.Length) return;
        int cap = Ids.Length;
        if (exact) cap = slots;
        else while (cap < slots) cap *= 2;
        var grown = new ulong[cap];
        Array.Copy(Ids, grown, Ids.Length);
        Ids = grown;
    }

    private int Home(ulong id) => (int)((id * 0x9E3779B97F4A7C15UL) >> (64 - BitOperations.Log2((uint)_table.Length))) & _mask;

    /// <summary>The slot of <paramref name="id"/>.</summary>
    public bool TryGetValue(ulong id, out int slot)
    {
        var table = _table;
        int mask = table.Length - 1;
        for (int i = Home(id); ; i = (i + 1) & mask)
        {
            int cell = table[i];
            if (cell == 0) break;
            if (Ids[cell - 1] == id)
            {
                slot = cell - 1;
                return true;
            }
        }
        slot = -1;
        return false;
    }

    /// <summary>Whether <paramref name="id"/> is present.</summary>
    public bool ContainsKey(ulong id) => TryGetValue(id, out _);

    /// <summary>Maps <paramref name="id"/> to <paramref name="slot"/> (within <see cref="Ids"/>); false when the id is present.</summary>
    public bool TryAdd(ulong id, int slot)
    {
        if (ContainsKey(id)) return false;
        if ((Count + 1) * 4 > _table.Length * 3) Resize(_table.Length * 2);
        Ids[slot] = id;
        int i = Home(id);
        while (_table[i] != 0) i = (i + 1) & _mask;
        _table[i] = slot + 1;
        Count++;
        return true;
    }

    /// <summary>Removes <paramref name="id"/>, returning its slot.</summary>
    public bool Remove(ulong id, out int slot)
    {
        int i = Home(id);
        while (true)
        {
            int cell = _table[i];
            if (cell == 0)
            {
                slot = -1;
                return false;
            }
            if (Ids[cell - 1] == id) break;
            i = (i + 1) & _mask;
        }
        slot = _table[i] - 1;
        // Backward-shift deletion: pull later members of the probe run into the hole so no tombstones are needed.
        int hole = i;
        for (int j = (hole + 1) & _mask; _table[j] != 0; j = (j + 1) & _mask)
        {
            int home = Home(Ids[_table[j] - 1]);
            // j's entry may move to the hole only if its home is not in (hole, j] (cyclically).
            bool between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
            if (between) continue;
            _table[hole] = _table[j];
            hole = j;
        }
        _table[hole] = 0;
        Count--;
        if (_table.Length > 16 && Count * 8 < _table.Length * 3 / 2) Resize(_table.Length / 2);
        return true;
    }

    private void Resize(int size)
    {
        var old = _table;
        _table = new int[size];
        _mask = size - 1;
        foreach (int cell in old)
        {
            if (cell == 0) continue;
            int i = Home(Ids[cell - 1]);
            while (_table[i] != 0) i = (i + 1) & _mask;
            _table[i] = cell;
        }
    }
}
