namespace VectorStore.Indexing;

/// <summary>
/// One inverted list: the codes of its entries back to back (so a probe is one contiguous scan) and their slots in
/// the same order. Deletes move the last entry into the hole, so the list stays dense without tombstones.
/// </summary>
/// <remarks>
/// Not thread-safe: the owning <see cref="IvfIndex"/> serializes mutations with searches (see its remarks).
/// </remarks>
internal sealed class IvfList
{
    private const int MinCapacity = 8;

    public IvfList(int codeSize, int capacity = 0)
    {
        CodeSize = codeSize;
        Codes = capacity == 0 ? [] : new byte[(long)capacity * codeSize];
        Slots = capacity == 0 ? [] : new int[capacity];
    }

    public int CodeSize { get; }

    /// <summary>Codes of entries [0, Count), <see cref="CodeSize"/> bytes each; the tail is spare capacity.</summary>
    public byte[] Codes { get; private set; }

    /// <summary>Slot of each entry, parallel to <see cref="Codes"/>.</summary>
    public int[] Slots { get; private set; }

    public int Count { get; private set; }

    public int Capacity => Slots.Length;

    /// <summary>Resident bytes: codes and slots for the whole capacity, spare included.</summary>
    public long Bytes => (long)Capacity * (CodeSize + sizeof(int));

    public ReadOnlySpan<byte> Code(int position) => Codes.AsSpan(position * CodeSize, CodeSize);

    /// <summary>Makes room for <paramref name="extra"/> more entries (growing by 1.5× so appends stay amortized O(1)).</summary>
    public void Reserve(int extra)
    {
        int need = Count + extra;
        if (need <= Capacity) return;
        int cap = Math.Max(need, Math.Max(MinCapacity, Capacity + (Capacity >> 1)));
        Resize(cap);
    }

    private void Resize(int capacity)
    {
        var codes = new byte[(long)capacity * CodeSize];
        var slots = new int[capacity];
        Codes.AsSpan(0, Count * CodeSize).CopyTo(codes);
        Slots.AsSpan(0, Count).CopyTo(slots);
        Codes = codes;
        Slots = slots;
    }

    /// <summary>Appends an entry; returns the span its code must be written to.</summary>
    public Span<byte> Append(int slot)
    {
        Reserve(1);
        int pos = Count++;
        Slots[pos] = slot;
        return Codes.AsSpan(pos * CodeSize, CodeSize);
    }

    /// <summary>Position of <paramref name="slot"/> in this list, or −1 (a vectorized scan of the slot array).</summary>
    public int IndexOf(int slot) => Slots.AsSpan(0, Count).IndexOf(slot);

    /// <summary>
    /// Removes the entry at <paramref name="position"/> by moving the last entry into it; shrinks the arrays when
    /// three quarters of the capacity is unused, so deletes give memory back without a separate compaction pass.
    /// </summary>
    public void RemoveAt(int position)
    {
        int last = Count - 1;
        if (position != last)
        {
            Slots[position] = Slots[last];
            Codes.AsSpan(last * CodeSize, CodeSize).CopyTo(Codes.AsSpan(position * CodeSize, CodeSize));
        }
        Count = last;
        if (Capacity > MinCapacity && Count < Capacity / 4) Resize(Math.Max(MinCapacity, Count * 2));
    }

    /// <summary>A copy whose capacity equals its count (what a fresh build holds).</summary>
    public IvfList Trimmed()
    {
        if (Capacity == Count) return this;
        var t = new IvfList(CodeSize, Count);
        Codes.AsSpan(0, Count * CodeSize).CopyTo(t.Codes);
        Slots.AsSpan(0, Count).CopyTo(t.Slots);
        t.Count = Count;
        return t;
    }

    /// <summary>Builds a list from already-encoded entries (used by reads and rebalancing).</summary>
    public static IvfList FromEntries(int codeSize, int[] slots, byte[] codes, int count)
    {
        var list = new IvfList(codeSize) { Codes = codes, Slots = slots, Count = count };
        return list;
    }
}
