using Roaring.Net.CRoaring;
using VectorStore.Filtering;

namespace VectorStore.Filtering.Columns;

/// <summary>
/// The values of one declared field for every slot, and the index a filter reads them through. Queries return a new
/// bitmap of matching slots owned by the caller.
/// </summary>
/// <remarks>
/// Thread-safety: the owning collection mutates it under its write lock and queries it under its read lock; queries
/// never mutate (CRoaring bitmaps are safe for concurrent readers).
/// </remarks>
internal abstract class FieldColumn : IDisposable
{
    private ulong[] _present = new ulong[1];

    /// <summary>
    /// While true (a snapshot being restored) values go to the managed arrays only and <see cref="EndBulk"/> builds
    /// the bitmaps in one sorted pass: one native call per value instead of several per record.
    /// </summary>
    protected bool Bulk { get; private set; }

    protected FieldColumn(FieldDefinition definition) => Definition = definition;

    /// <summary>The field.</summary>
    public FieldDefinition Definition { get; }

    /// <summary>Slots with a value (for <c>exists</c> and <c>!=</c>).</summary>
    public Roaring32Bitmap PresentSlots { get; } = new();

    /// <summary>Whether <paramref name="slot"/> has a value (managed bit test: no native call on the hot path).</summary>
    public bool Has(int slot)
    {
        int w = slot >> 6;
        return (uint)w < (uint)_present.Length && (_present[w] & (1UL << (slot & 63))) != 0;
    }

    /// <summary>Sets the value of <paramref name="slot"/> (already of this column's type).</summary>
    public void Set(int slot, FieldValue value)
    {
        if (Has(slot)) Remove(slot);
        EnsureCapacity(slot + 1);
        if ((slot >> 6) >= _present.Length) Array.Resize(ref _present, Math.Max(_present.Length * 2, (slot >> 6) + 1));
        _present[slot >> 6] |= 1UL << (slot & 63);
        if (!Bulk) PresentSlots.Add((uint)slot);
        Store(slot, value);
    }

    /// <summary>Removes the value of <paramref name="slot"/>, if any.</summary>
    public void Clear(int slot)
    {
        if (!Has(slot)) return;
        Remove(slot);
        _present[slot >> 6] &= ~(1UL << (slot & 63));
        PresentSlots.Remove((uint)slot);
    }

    /// <summary>Starts a bulk load into an empty column (see <see cref="Bulk"/>).</summary>
    public void BeginBulk() => Bulk = true;

    /// <summary>Ends a bulk load: builds the present bitmap and the column's own bitmaps from its arrays.</summary>
    public void EndBulk()
    {
        if (!Bulk) return;
        Bulk = false;
        PresentSlots.AddMany(SlotsWithValues().Select(s => (uint)s).ToArray());
        BuildIndexes();
    }

    /// <summary>Every slot with a value, ascending.</summary>
    protected IEnumerable<int> SlotsWithValues()
    {
        for (int w = 0; w < _present.Length; w++)
        {
            ulong bits = _present[w];
            while (bits != 0)
            {
                yield return (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
            }
        }
    }

    /// <summary>Builds what a bulk load skipped (called once, after <see cref="PresentSlots"/> is complete).</summary>
    protected abstract void BuildIndexes();

    /// <summary>The value of a slot that <see cref="Has"/> one.</summary>
    public abstract FieldValue Get(int slot);

    /// <summary>Bytes this column holds (managed arrays and the native bitmaps' serialized size).</summary>
    public long MemoryBytes => _present.Length * sizeof(ulong) + (long)PresentSlots.GetSerializationSize(SerializationFormat.Portable) + ValueBytes;

    /// <summary>Finishes a write batch: a column with a lazily maintained index catches up here (under the write lock).</summary>
    public virtual void CompleteBatch() { }

    /// <summary><c>field == value</c>.</summary>
    public virtual Roaring32Bitmap Equal(FieldValue value) => throw Unsupported("==");

    /// <summary><c>field in (values)</c>: equal to any (tags: holds any).</summary>
    public virtual Roaring32Bitmap In(IReadOnlyList<FieldValue> values) => throw Unsupported("in");

    /// <summary>Slots whose ordered key lies in [<paramref name="low"/>, <paramref name="high"/>].</summary>
    public virtual Roaring32Bitmap Range(long low, long high) => throw Unsupported("a range comparison");

    /// <summary><c>field contains 'tag'</c>.</summary>
    public virtual Roaring32Bitmap Contains(string tag) => throw Unsupported("contains");

    protected abstract void Store(int slot, FieldValue value);

    protected abstract void Remove(int slot);

    protected abstract void EnsureCapacity(int slots);

    protected abstract long ValueBytes { get; }

    private InvalidArgumentException Unsupported(string what) =>
        new($"field '{Definition.Name}' is {Definition.Type.Name()}: {what} does not apply to it{Hint()}");

    private string Hint() => Definition.Type switch
    {
        FieldType.Tags => " (use contains or in)",
        FieldType.Keyword or FieldType.Bool => " (use ==, != or in)",
        _ => "",
    };

    /// <summary>Grows <paramref name="array"/> to hold at least <paramref name="slots"/> entries (doubling).</summary>
    protected static void Grow<T>(ref T[] array, int slots)
    {
        if (slots > array.Length) Array.Resize(ref array, Math.Max(slots, Math.Max(16, array.Length * 2)));
    }

    /// <inheritdoc/>
    public virtual void Dispose() => PresentSlots.Dispose();
}
