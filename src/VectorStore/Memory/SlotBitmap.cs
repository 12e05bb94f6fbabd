using System.Numerics;

namespace VectorStore.Memory;

/// <summary>
/// One bit per slot (or graph node), growable: a collection's live slots, the slots or nodes changed since an index
/// file was written, a flat index's occupied slots. Bit s is bit s % 64 of word s / 64, the layout snapshots store.
/// </summary>
/// <remarks>
/// Thread-safety: reads may run concurrently with each other. <see cref="Add"/>, <see cref="Remove"/>,
/// <see cref="EnsureCapacity"/> and <see cref="Clear"/> need exclusive access. <see cref="AddAtomic"/> may run
/// concurrently with itself and with reads, on slots below <see cref="Capacity"/> (it never grows the bitmap).
/// </remarks>
internal sealed class SlotBitmap
{
    private ulong[] _words;

    /// <summary>An empty bitmap covering at least <paramref name="capacity"/> slots.</summary>
    public SlotBitmap(int capacity = 0) => _words = new ulong[WordsFor(capacity)];

    /// <summary>Slots covered without growing.</summary>
    public int Capacity => _words.Length << 6;

    /// <summary>The words, for scans that walk them and for writing (the array is replaced when the bitmap grows).</summary>
    public ulong[] Words => _words;

    /// <summary>Bytes held.</summary>
    public long MemoryBytes => (long)_words.Length * sizeof(ulong);

    /// <summary>Words needed for <paramref name="slots"/> slots.</summary>
    public static int WordsFor(int slots) => (int)(((long)slots + 63) >> 6);

    /// <summary>Whether <paramref name="slot"/> is set; false beyond the capacity.</summary>
    public bool Contains(int slot)
    {
        int w = slot >> 6;
        return (uint)w < (uint)_words.Length && (_words[w] & (1UL << (slot & 63))) != 0;
    }

    /// <summary>Sets <paramref name="slot"/>, growing the bitmap (by half again at least) when needed; true when it was clear.</summary>
    public bool Add(int slot)
    {
        EnsureCapacity(slot + 1, grow: true);
        ref ulong word = ref _words[slot >> 6];
        ulong bit = 1UL << (slot & 63);
        if ((word & bit) != 0) return false;
        word |= bit;
        return true;
    }

    /// <summary>Sets <paramref name="slot"/> (below <see cref="Capacity"/>) atomically; true for the one caller that set it.</summary>
    public bool AddAtomic(int slot)
    {
        ref ulong word = ref _words[slot >> 6];
        ulong bit = 1UL << (slot & 63);
        return (Volatile.Read(ref word) & bit) == 0 && (Interlocked.Or(ref word, bit) & bit) == 0;
    }

    /// <summary>Clears <paramref name="slot"/>; true when it was set.</summary>
    public bool Remove(int slot)
    {
        int w = slot >> 6;
        if ((uint)w >= (uint)_words.Length) return false;
        ulong bit = 1UL << (slot & 63);
        if ((_words[w] & bit) == 0) return false;
        _words[w] &= ~bit;
        return true;
    }

    /// <summary>
    /// Covers at least <paramref name="slots"/> slots: exactly that many words, or with <paramref name="grow"/> at least
    /// half again the current size (amortized growth). Set bits are kept.
    /// </summary>
    public void EnsureCapacity(int slots, bool grow = false)
    {
        int words = WordsFor(slots);
        if (words <= _words.Length) return;
        if (grow) words = Math.Max(words, _words.Length + (_words.Length >> 1));
        Array.Resize(ref _words, words);
    }

    /// <summary>Clears every bit, keeping the capacity.</summary>
    public void Clear() => Array.Clear(_words);

    /// <summary>Copies <paramref name="words"/> in as the first words (the rest is cleared), growing exactly as needed.</summary>
    public void Load(ReadOnlySpan<ulong> words)
    {
        if (words.Length > _words.Length) _words = new ulong[words.Length];
        words.CopyTo(_words);
        _words.AsSpan(words.Length).Clear();
    }

    /// <summary>Set bits.</summary>
    public int Count()
    {
        int n = 0;
        foreach (ulong word in _words) n += BitOperations.PopCount(word);
        return n;
    }

    /// <summary>The first set slot at or after <paramref name="from"/> and below <paramref name="end"/>, or <paramref name="end"/>.</summary>
    public int NextSet(int from, int end)
    {
        int limit = Math.Min(end, Capacity);
        if (from < 0) from = 0;
        if (from >= limit) return end;
        int w = from >> 6;
        ulong word = _words[w] & (ulong.MaxValue << (from & 63));
        while (true)
        {
            if (word != 0)
            {
                int slot = (w << 6) + BitOperations.TrailingZeroCount(word);
                return slot < limit ? slot : end;
            }
            if (++w << 6 >= limit) return end;
            word = _words[w];
        }
    }

    /// <summary>The set slots, ascending.</summary>
    public int[] ToArray()
    {
        var slots = new int[Count()];
        int n = 0;
        for (int w = 0; w < _words.Length; w++)
            for (ulong bits = _words[w]; bits != 0; bits &= bits - 1)
                slots[n++] = (w << 6) + BitOperations.TrailingZeroCount(bits);
        return slots;
    }
}
