using Roaring.Net.CRoaring;
using VectorStore.Filtering.Columns;

namespace VectorStore.Filtering;

/// <summary>
/// A collection's declared fields: per field a column of values with its in-memory index (a bitmap per keyword, tag
/// and bool value; a sorted key array for int, double and timestamp), plus the bitmap of live slots that
/// <c>not</c> and <c>!=</c> complement against.
/// </summary>
/// <remarks>
/// Thread-safety: mutated only under the owning collection's write lock, read under its read lock (see
/// <see cref="FieldColumn"/>).
/// </remarks>
internal sealed class FieldIndex : IDisposable
{
    private readonly FieldColumn[] _columns;
    private readonly Dictionary<string, int> _byName = new(StringComparer.Ordinal);

    public FieldIndex(IReadOnlyList<FieldDefinition> fields)
    {
        Fields = fields;
        _columns = new FieldColumn[fields.Count];
        for (int i = 0; i < fields.Count; i++)
        {
            _byName.Add(fields[i].Name, i);
            _columns[i] = fields[i].Type switch
            {
                FieldType.Keyword => new KeywordColumn(fields[i]),
                FieldType.Tags => new TagsColumn(fields[i]),
                FieldType.Bool => new BoolColumn(fields[i]),
                _ => new NumericColumn(fields[i]),
            };
        }
    }

    /// <summary>The declared fields, in declaration order.</summary>
    public IReadOnlyList<FieldDefinition> Fields { get; }

    /// <summary>Live slots of the collection.</summary>
    public Roaring32Bitmap Live { get; } = new();

    /// <summary>The column of <paramref name="name"/>, or null when the collection does not declare it.</summary>
    public FieldColumn? Column(string name) => _byName.TryGetValue(name, out int i) ? _columns[i] : null;

    private List<uint>? _bulkLive;

    /// <summary>Starts restoring a snapshot into this empty index: bitmaps are built once, by <see cref="EndBulk"/>.</summary>
    public void BeginBulk()
    {
        _bulkLive = [];
        foreach (var c in _columns) c.BeginBulk();
    }

    /// <summary>Builds every bitmap skipped since <see cref="BeginBulk"/>.</summary>
    public void EndBulk()
    {
        if (_bulkLive is null) return;
        _bulkLive.Sort();
        Live.AddMany(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_bulkLive));
        _bulkLive = null;
        foreach (var c in _columns) c.EndBulk();
    }

    /// <summary>Makes <paramref name="slot"/> live with the values encoded in <paramref name="record"/> (none when empty), replacing any it had.</summary>
    public void Set(int slot, ReadOnlySpan<byte> record, string where)
    {
        ClearValues(slot);
        if (_bulkLive is not null) _bulkLive.Add((uint)slot);
        else Live.Add((uint)slot);
        if (!record.IsEmpty) FieldRecordCodec.Decode(record, Fields, where, (i, v) => _columns[i].Set(slot, v));
    }

    /// <summary>Removes <paramref name="slot"/> (a delete).</summary>
    public void Remove(int slot)
    {
        ClearValues(slot);
        Live.Remove((uint)slot);
    }

    private void ClearValues(int slot)
    {
        foreach (var c in _columns) c.Clear(slot);
    }

    /// <summary>Lets lazily maintained column indexes catch up after a write batch.</summary>
    public void CompleteBatch()
    {
        foreach (var c in _columns) c.CompleteBatch();
    }

    /// <summary>The values of <paramref name="slot"/> by field name (empty when it has none).</summary>
    public IReadOnlyDictionary<string, FieldValue> Get(int slot)
    {
        Dictionary<string, FieldValue>? values = null;
        foreach (var c in _columns)
            if (c.Has(slot)) (values ??= new(StringComparer.Ordinal))[c.Definition.Name] = c.Get(slot);
        return values ?? Collections.VectorRecord.EmptyFields;
    }

    /// <summary>The stored form of <paramref name="slot"/>'s values (null when it has none), for snapshots.</summary>
    public byte[]? Encode(int slot)
    {
        Span<(int, FieldValue)> entries = new (int, FieldValue)[_columns.Length];
        int n = 0;
        for (int i = 0; i < _columns.Length; i++)
            if (_columns[i].Has(slot)) entries[n++] = (i, _columns[i].Get(slot));
        return n == 0 ? null : FieldRecordCodec.Encode(entries[..n]);
    }

    /// <summary>Bytes held by the columns and their indexes.</summary>
    public long MemoryBytes
    {
        get
        {
            long bytes = (long)Live.GetSerializationSize(SerializationFormat.Portable);
            foreach (var c in _columns) bytes += c.MemoryBytes;
            return bytes;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var c in _columns) c.Dispose();
        Live.Dispose();
    }
}
