using VectorStore.Quantization;

namespace VectorStore.Indexing.Ivf;

/// <summary>
/// One inverted list: the codes of its entries back to back (so a probe is one contiguous scan) and their slots in
/// the same order. For a codec with a block layout (<see cref="IBlockCodec"/>, 4-bit fast-scan PQ) the codes are
/// packed in blocks of <see cref="IBlockCodec.BlockVectors"/> entries, position i of the list being position
/// i mod 32 of block i / 32. Deletes move the last entry into the hole, so the list stays dense without tombstones.
/// </summary>
/// <remarks>
/// Not thread-safe: the owning <see cref="IvfIndex"/> serializes mutations with searches (see its remarks).
/// </remarks>
internal sealed class IvfList
{
    private const int MinCapacity = 8;

    public IvfList(int codeSize, IBlockCodec? blocks, int capacity = 0)
    {
        CodeSize = codeSize;
        Blocks = blocks;
        capacity = RoundCapacity(capacity);
        Codes = capacity == 0 ? [] : new byte[CodeBytes(capacity)];
        Slots = capacity == 0 ? [] : new int[capacity];
    }

    public int CodeSize { get; }

    /// <summary>
    /// The packed code bytes of entries [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>)
    /// in block layout (<see cref="BlockCodecRanges.Range"/>).
    /// </summary>
    public Span<byte> BlockRange(int start, int count) => Blocks!.Range(Codes, start, count);

    /// <summary>The block layout, or null when codes are stored one after another.</summary>
    public IBlockCodec? Blocks { get; }

    /// <summary>Codes of entries [0, Count) (row-major or packed blocks); the tail is spare capacity.</summary>
    public byte[] Codes { get; private set; }

    /// <summary>Slot of each entry, in list order.</summary>
    public int[] Slots { get; private set; }

    public int Count { get; private set; }

    public int Capacity => Slots.Length;

    /// <summary>Resident bytes: codes and slots for the whole capacity, spare included.</summary>
    public long Bytes => CodeBytes(Capacity) + (long)Capacity * sizeof(int);

    private int RoundCapacity(int capacity)
    {
        if (Blocks is null || capacity == 0) return capacity;
        int bv = Blocks.BlockVectors;
        return (capacity + bv - 1) / bv * bv;
    }

    /// <summary>Bytes of code storage for <paramref name="entries"/> entries (whole blocks in block layout).</summary>
    public long CodeBytes(int entries) =>
        Blocks is null ? (long)entries * CodeSize : (long)((entries + Blocks.BlockVectors - 1) / Blocks.BlockVectors) * Blocks.BlockBytes;

    private Span<byte> BlockOf(int position) =>
        Codes.AsSpan(position / Blocks!.BlockVectors * Blocks.BlockBytes, Blocks.BlockBytes);

    /// <summary>Copies the (per-vector) code of the entry at <paramref name="position"/>.</summary>
    public void CopyCode(int position, Span<byte> code)
    {
        if (Blocks is null) Codes.AsSpan(position * CodeSize, CodeSize).CopyTo(code);
        else Blocks.GetBlockCode(BlockOf(position), position % Blocks.BlockVectors, code);
    }

    private void SetCode(int position, ReadOnlySpan<byte> code)
    {
        if (Blocks is null) code.CopyTo(Codes.AsSpan(position * CodeSize, CodeSize));
        else Blocks.SetBlockCode(BlockOf(position), position % Blocks.BlockVectors, code);
    }

    /// <summary>The most entries one list holds: its codes are one array of at most <see cref="Array.MaxLength"/> bytes.</summary>
    public int MaxEntries => Blocks is null ? Array.MaxLength / CodeSize : Array.MaxLength / Blocks.BlockBytes * Blocks.BlockVectors;

    /// <summary>Makes room for <paramref name="extra"/> more entries (growing by 1.5× so appends stay amortized O(1)).</summary>
    public void Reserve(int extra)
    {
        long need = (long)Count + extra;
        if (need <= Capacity) return;
        int max = MaxEntries;
        if (need > max)
            throw new InvalidArgumentException($"an inverted list holds at most {max:N0} entries ({CodeSize}-byte codes in one array); {need:N0} were asked for. Use more lists");
        Resize((int)Math.Min(max, Math.Max(need, Math.Max(MinCapacity, Capacity + (long)(Capacity >> 1)))));
    }

    private void Resize(int capacity)
    {
        capacity = RoundCapacity(capacity);
        var codes = new byte[CodeBytes(capacity)];
        var slots = new int[capacity];
        Codes.AsSpan(0, (int)CodeBytes(Count)).CopyTo(codes);
        Slots.AsSpan(0, Count).CopyTo(slots);
        Codes = codes;
        Slots = slots;
    }

    /// <summary>Appends an entry with its per-vector code.</summary>
    public void Append(int slot, ReadOnlySpan<byte> code)
    {
        Reserve(1);
        int pos = Count++;
        Slots[pos] = slot;
        SetCode(pos, code);
    }

    /// <summary>Appends every entry of <paramref name="source"/> (same codec) to this empty list, copying whole blocks.</summary>
    public void AppendAll(IvfList source)
    {
        if (Count != 0) throw new InvalidOperationException("AppendAll needs an empty list");
        Reserve(source.Count);
        source.Codes.AsSpan(0, (int)source.CodeBytes(source.Count)).CopyTo(Codes);
        source.Slots.AsSpan(0, source.Count).CopyTo(Slots);
        Count = source.Count;
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
            if (Blocks is null)
            {
                Codes.AsSpan(last * CodeSize, CodeSize).CopyTo(Codes.AsSpan(position * CodeSize, CodeSize));
            }
            else
            {
                Span<byte> code = CodeSize <= 1024 ? stackalloc byte[CodeSize] : new byte[CodeSize];
                CopyCode(last, code);
                SetCode(position, code);
            }
        }
        Count = last;
        if (Capacity > MinCapacity && Count < Capacity / 4)
        {
            int smaller = RoundCapacity(Math.Max(MinCapacity, Count * 2));
            if (smaller < Capacity) Resize(smaller);
        }
    }
}
