using VectorStore.Quantization;

namespace VectorStore.Indexing;

/// <summary>
/// Which slots a filtered search may return: a bit per slot plus the number of set bits, so an index can switch to
/// an exact scan of the matching set when it is small. Immutable once built; thread-safe for reads.
/// </summary>
public sealed class SlotFilter
{
    private readonly ulong[] _bits;

    /// <summary>Builds a filter over slots [0, capacity).</summary>
    public SlotFilter(int capacity) => _bits = new ulong[(capacity + 63) >> 6];

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
        return (uint)w < (uint)_bits.Length && (_bits[w] & (1UL << (slot & 63))) != 0;
    }

    /// <summary>Every matching slot, ascending.</summary>
    public IEnumerable<int> Slots()
    {
        for (int w = 0; w < _bits.Length; w++)
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
