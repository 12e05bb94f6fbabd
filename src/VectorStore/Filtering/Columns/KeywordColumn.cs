using Roaring.Net.CRoaring;

namespace VectorStore.Filtering.Columns;

/// <summary>A keyword field: one string per slot, indexed by a bitmap per distinct value. Thread-safety: as <see cref="FieldColumn"/>.</summary>
internal sealed class KeywordColumn(FieldDefinition definition) : FieldColumn(definition)
{
    private readonly ValueBitmaps _index = new();
    private int[] _valueId = []; // per slot, the value's id; meaningful only where Has(slot)

    public override FieldValue Get(int slot) => FieldValue.Keyword(_index.ValueOf(_valueId[slot]));

    public override Roaring32Bitmap Equal(FieldValue value) => _index.Slots(value.AsKeyword());

    public override Roaring32Bitmap In(IReadOnlyList<FieldValue> values) => _index.AnyOf(values.Select(v => v.AsKeyword()));

    protected override void Store(int slot, FieldValue value)
    {
        int id = _index.Intern(value.AsKeyword());
        _valueId[slot] = id;
        if (!Bulk) _index.Add(id, slot);
    }

    protected override void BuildIndexes()
    {
        var lists = new List<uint>[_index.Count];
        foreach (int slot in SlotsWithValues()) (lists[_valueId[slot]] ??= []).Add((uint)slot);
        _index.AddSorted(lists);
    }

    protected override void Remove(int slot) => _index.Remove(_valueId[slot], slot);

    protected override void EnsureCapacity(int slots) => Grow(ref _valueId, slots);

    protected override long ValueBytes => _valueId.Length * sizeof(int) + _index.MemoryBytes;

    public override void Dispose()
    {
        _index.Dispose();
        base.Dispose();
    }
}
