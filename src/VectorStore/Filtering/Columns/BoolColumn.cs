using Roaring.Net.CRoaring;

namespace VectorStore.Filtering.Columns;

/// <summary>A bool field: a bitmap of the true slots and one of the false. Thread-safety: as <see cref="FieldColumn"/>.</summary>
internal sealed class BoolColumn(FieldDefinition definition) : FieldColumn(definition)
{
    private readonly Roaring32Bitmap _true = new();
    private readonly Roaring32Bitmap _false = new();
    private bool[] _value = [];

    public override FieldValue Get(int slot) => FieldValue.Bool(_value[slot]);

    public override Roaring32Bitmap Equal(FieldValue value) => (value.AsBool() ? _true : _false).Clone();

    public override Roaring32Bitmap In(IReadOnlyList<FieldValue> values)
    {
        bool t = values.Any(v => v.AsBool()), f = values.Any(v => !v.AsBool());
        return t && f ? PresentSlots.Clone() : t ? _true.Clone() : f ? _false.Clone() : new Roaring32Bitmap();
    }

    protected override void Store(int slot, FieldValue value)
    {
        _value[slot] = value.AsBool();
        if (!Bulk) (_value[slot] ? _true : _false).Add((uint)slot);
    }

    protected override void BuildIndexes()
    {
        var t = new List<uint>();
        var f = new List<uint>();
        foreach (int slot in SlotsWithValues()) (_value[slot] ? t : f).Add((uint)slot);
        _true.AddMany(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(t));
        _false.AddMany(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(f));
    }

    protected override void Remove(int slot) => (_value[slot] ? _true : _false).Remove((uint)slot);

    protected override void EnsureCapacity(int slots) => Grow(ref _value, slots);

    protected override long ValueBytes => _value.Length
        + (long)_true.GetSerializationSize(SerializationFormat.Portable) + (long)_false.GetSerializationSize(SerializationFormat.Portable);

    public override void Dispose()
    {
        _true.Dispose();
        _false.Dispose();
        base.Dispose();
    }
}
