using VectorStore.Ranking;
using System.Buffers;
using System.Numerics;
using Roaring.Net.CRoaring;

namespace VectorStore.Filtering.Columns;

/// <summary>
/// An int, double or timestamp field: one ordered 64-bit key per slot (the value itself for int and timestamp; for
/// double an order-preserving mapping of its bits), and a sorted (key, slot) array that answers ranges by binary
/// search.
/// </summary>
/// <remarks>
/// Writes do not keep the sorted array current: slots written since it was built are listed in a change log that
/// queries also scan (checking each candidate's current key), and the writer rebuilds the array once the log exceeds
/// 1/32 of the entries (amortised O(log n) per write, never on the query path). Thread-safety: as
/// <see cref="FieldColumn"/>.
/// </remarks>
internal sealed class NumericColumn(FieldDefinition definition) : FieldColumn(definition)
{
    private long[] _key = [];
    private long[] _sortedKeys = [];
    private int[] _sortedSlots = [];
    private readonly List<int> _changed = [];

    /// <summary>The ordered key of a value of this column's type.</summary>
    public long KeyOf(FieldValue value) => Definition.Type switch
    {
        FieldType.Int => value.AsInt(),
        FieldType.Timestamp => value.AsTimestampMicros(),
        FieldType.Double => DoubleKey(value.AsDouble()),
        _ => throw new InvalidOperationException(),
    };

    /// <summary>Maps a double to a long whose signed order is the double's order (negative values: flip the magnitude bits).</summary>
    public static long DoubleKey(double d)
    {
        long bits = BitConverter.DoubleToInt64Bits(d == 0 ? 0.0 : d);
        return bits < 0 ? bits ^ long.MaxValue : bits;
    }

    private static double KeyDouble(long key) => BitConverter.Int64BitsToDouble(key < 0 ? key ^ long.MaxValue : key);

    public override FieldValue Get(int slot) => Definition.Type switch
    {
        FieldType.Int => FieldValue.Int(_key[slot]),
        FieldType.Timestamp => FieldValue.TimestampMicros(_key[slot]),
        _ => FieldValue.Double(KeyDouble(_key[slot])),
    };

    public override Roaring32Bitmap Equal(FieldValue value)
    {
        long k = KeyOf(value);
        return Range(k, k);
    }

    public override Roaring32Bitmap In(IReadOnlyList<FieldValue> values)
    {
        var result = new Roaring32Bitmap();
        foreach (var v in values)
        {
            using var one = Equal(v);
            result.IOr(one);
        }
        return result;
    }

    public override Roaring32Bitmap Range(long low, long high)
    {
        var result = new Roaring32Bitmap();
        if (low > high) return result;
        int from = SortedSearch.LowerBound<long>(_sortedKeys, low);
        int to = high == long.MaxValue ? _sortedKeys.Length : SortedSearch.LowerBound<long>(_sortedKeys, high + 1);
        // The sorted array yields slots in key order; CRoaring inserts unsorted values into an array container one
        // memmove at a time (measured: 1 ms for 25k values), so the slots are first marked in a bitset and handed
        // over in ascending order.
        int words = (_key.Length + 63) >> 6;
        var bits = ArrayPool<ulong>.Shared.Rent(Math.Max(1, words));
        Array.Clear(bits, 0, words);
        int marked = 0;
        try
        {
            for (int i = from; i < to; i++)
            {
                int slot = _sortedSlots[i];
                // Stale entries (rewritten or cleared since the build) are skipped; the change log supplies the new value.
                if (Has(slot) && _key[slot] == _sortedKeys[i] && Mark(bits, slot)) marked++;
            }
            foreach (int slot in _changed)
                if (Has(slot) && _key[slot] >= low && _key[slot] <= high && Mark(bits, slot)) marked++;
            if (marked == 0) return result;
            var sorted = ArrayPool<uint>.Shared.Rent(marked);
            try
            {
                int n = 0;
                for (int w = 0; w < words; w++)
                {
                    ulong b = bits[w];
                    while (b != 0)
                    {
                        sorted[n++] = (uint)((w << 6) + BitOperations.TrailingZeroCount(b));
                        b &= b - 1;
                    }
                }
                result.AddMany(sorted.AsSpan(0, n));
            }
            finally { ArrayPool<uint>.Shared.Return(sorted); }
            return result;
        }
        finally { ArrayPool<ulong>.Shared.Return(bits); }
    }

    private static bool Mark(ulong[] bits, int slot)
    {
        ref ulong w = ref bits[slot >> 6];
        ulong m = 1UL << (slot & 63);
        if ((w & m) != 0) return false;
        w |= m;
        return true;
    }

    public override void CompleteBatch()
    {
        if (_changed.Count > Math.Max(64, _sortedKeys.Length / 32)) Rebuild();
    }

    private void Rebuild()
    {
        int n = (int)PresentSlots.Count;
        var slots = new int[n];
        var keys = new long[n];
        // One native copy, not an enumerator call per value (about 20x faster at 30k values).
        PresentSlots.CopyTo(System.Runtime.InteropServices.MemoryMarshal.Cast<int, uint>(slots.AsSpan()));
        for (int i = 0; i < n; i++) keys[i] = _key[slots[i]];
        Array.Sort(keys, slots);
        _sortedKeys = keys;
        _sortedSlots = slots;
        _changed.Clear();
    }

    protected override void Store(int slot, FieldValue value)
    {
        _key[slot] = KeyOf(value);
        if (!Bulk) _changed.Add(slot);
    }

    protected override void BuildIndexes() => Rebuild();

    protected override void Remove(int slot) { }

    protected override void EnsureCapacity(int slots) => Grow(ref _key, slots);

    protected override long ValueBytes => _key.Length * sizeof(long) + _sortedKeys.Length * (sizeof(long) + sizeof(int)) + _changed.Capacity * sizeof(int);
}
