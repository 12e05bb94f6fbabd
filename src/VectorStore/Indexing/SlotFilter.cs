using System.Buffers;
using VectorStore.Quantization;

namespace VectorStore.Indexing;

/// <summary>
/// Which slots a filtered search may return: a bit per slot plus the number of set bits, so an index can switch to
/// an exact scan of the matching set when it is small. Immutable once built; thread-safe for reads.
/// </summary>
public sealed class SlotFilter : IDisposable
{
    private readonly ulong[] _bits;
    private readonly int _words;
    private bool _pooled;

    /// <summary>Builds a filter over slots [0, capacity).</summary>
    public SlotFilter(int capacity)
    {
        _words = (capacity + 63) >> 6;
        _bits = new ulong[_words];
    }

    private SlotFilter(ulong[] rented, int words)
    {
        _bits = rented;
        _words = words;
        _pooled = true;
        Array.Clear(rented, 0, words);
    }

    /// <summary>
    /// A filter over slots [0, capacity) whose bits come from the shared pool: a search builds one per query, and at a
    /// million slots a fresh array would be a 125 KB large-object allocation each time. <see cref="Dispose"/> returns it.
    /// </summary>
    public static SlotFilter Rent(int capacity)
    {
        int words = (capacity + 63) >> 6;
        return new SlotFilter(ArrayPool<ulong>.Shared.Rent(Math.Max(1, words)), words);
    }

    /// <summary>Returns a rented filter's bits to the pool; the filter must not be used afterwards.</summary>
    public void Dispose()
    {
        if (!_pooled) return;
        _pooled = false;
        ArrayPool<ulong>.Shared.Return(_bits);
    }

    /// <summary>Marks every slot of <paramref name="slots"/> (each below the capacity) as matching.</summary>
    public void AddMany(ReadOnlySpan<uint> slots)
    {
        foreach (uint slot in slots) Add((int)slot);
    }

    /// <summary>Number of matching slots.</summary>
    public int Count { get; private set; }

    /// <summary>Marks <paramref name="slot"/> as matching.</summary>
    public void Add(int slot)
    {
        ref ulong w = ref _bits[slot >> 6];
        ulong m = 1UL << (slot & 63);
        if ((w & m) == 0) { w |= m; Count++; }
    }

    /// <summary>Whether <paramref name="slot"/> matches.</summary>
    public bool Contains(int slot)
    {
        int w = slot >> 6;
        return (uint)w < (uint)_words && (_bits[w] & (1UL << (slot & 63))) != 0;
    }

    /// <summary>The bits: slot s matches when bit s % 64 of word s / 64 is set (for scans that walk words themselves).</summary>
    public ReadOnlySpan<ulong> Words => new(_bits, 0, _words);

    /// <summary>Every matching slot, ascending.</summary>
    public IEnumerable<int> Slots()
    {
        for (int w = 0; w < _words; w++)
        {
            ulong bits = _bits[w];
            while (bits != 0)
            {
                int b = System.Numerics.BitOperations.TrailingZeroCount(bits);
                yield return (w << 6) + b;
                bits &= bits - 1;
            }
        }
    }
}
