using Roaring.Net.CRoaring;

namespace VectorStore.Filtering.Columns;

/// <summary>A tags field: a set of strings per slot, indexed by a bitmap per distinct tag. Thread-safety: as <see cref="FieldColumn"/>.</summary>
internal sealed class TagsColumn(FieldDefinition definition) : FieldColumn(definition)
{
    private readonly ValueBitmaps _index = new();
    private int[]?[] _tagIds = []; // per slot, its tags' ids in the record's order
    private long _tagEntries;

    public override FieldValue Get(int slot)
    {
        var ids = _tagIds[slot]!;
        var tags = new string[ids.Length];
        for (int i = 0; i < ids.Length; i++) tags[i] = _index.ValueOf(ids[i]);
        return FieldValue.Tags(tags);
    }

    public override Roaring32Bitmap Contains(string tag) => _index.Slots(tag);

    public override Roaring32Bitmap In(IReadOnlyList<FieldValue> values) => _index.AnyOf(values.Select(v => v.AsKeyword()));

    protected override void Store(int slot, FieldValue value)
    {
        var tags = value.AsTags();
        var ids = new int[tags.Count];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = _index.Intern(tags[i]);
            if (!Bulk) _index.Add(ids[i], slot);
        }
        _tagIds[slot] = ids;
        _tagEntries += ids.Length;
    }

    protected override void BuildIndexes()
    {
        var lists = new List<uint>[_index.Count];
        foreach (int slot in SlotsWithValues())
            foreach (int id in _tagIds[slot]!) (lists[id] ??= []).Add((uint)slot);
        _index.AddSorted(lists);
    }

    protected override void Remove(int slot)
    {
        var ids = _tagIds[slot]!;
        foreach (int id in ids) _index.Remove(id, slot);
        _tagEntries -= ids.Length;
        _tagIds[slot] = null;
    }

    protected override void EnsureCapacity(int slots) => Grow(ref _tagIds, slots);

    protected override long ValueBytes => _tagIds.Length * (long)IntPtr.Size + _tagEntries * sizeof(int) + (long)PresentSlots.Count * 24L + _index.MemoryBytes;

    public override void Dispose()
    {
        _index.Dispose();
        base.Dispose();
    }
}
