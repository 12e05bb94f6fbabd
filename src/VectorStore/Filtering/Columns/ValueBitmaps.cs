using Roaring.Net.CRoaring;

namespace VectorStore.Filtering.Columns;

/// <summary>
/// A dictionary of distinct strings, each with the bitmap of slots holding it: the inverted index of keyword and
/// tags columns. Values are never removed from the dictionary (an emptied bitmap costs a few bytes), so ids stay stable.
/// Thread-safety: as <see cref="FieldColumn"/>.
/// </summary>
internal sealed class ValueBitmaps : IDisposable
{
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _values = [];
    private readonly List<Roaring32Bitmap> _bitmaps = [];
    private long _stringBytes;

    /// <summary>Distinct values seen.</summary>
    public int Count => _values.Count;

    /// <summary>The id of <paramref name="value"/>, adding it if new.</summary>
    public int Intern(string value)
    {
        if (_ids.TryGetValue(value, out int id)) return id;
        id = _values.Count;
        _ids.Add(value, id);
        _values.Add(value);
        _bitmaps.Add(new Roaring32Bitmap());
        _stringBytes += 24 + 2L * value.Length;
        return id;
    }

    /// <summary>The string of id <paramref name="id"/>.</summary>
    public string ValueOf(int id) => _values[id];

    /// <summary>Marks <paramref name="slot"/> as holding value <paramref name="id"/>.</summary>
    public void Add(int id, int slot) => _bitmaps[id].Add((uint)slot);

    /// <summary>Adds each value id's ascending slots (<paramref name="slotsById"/>) in one call (a bulk load).</summary>
    public void AddSorted(List<uint>[] slotsById)
    {
        for (int id = 0; id < slotsById.Length; id++)
            if (slotsById[id] is { Count: > 0 } list) _bitmaps[id].AddMany(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list));
    }

    /// <summary>Unmarks it.</summary>
    public void Remove(int id, int slot) => _bitmaps[id].Remove((uint)slot);

    /// <summary>A new bitmap of the slots holding <paramref name="value"/> (empty when none).</summary>
    public Roaring32Bitmap Slots(string value) =>
        _ids.TryGetValue(value, out int id) ? _bitmaps[id].Clone() : new Roaring32Bitmap();

    /// <summary>A new bitmap of the slots holding any of <paramref name="values"/>.</summary>
    public Roaring32Bitmap AnyOf(IEnumerable<string> values)
    {
        var found = new List<Roaring32Bitmap>();
        foreach (var v in values)
            if (_ids.TryGetValue(v, out int id)) found.Add(_bitmaps[id]);
        return found.Count switch
        {
            0 => new Roaring32Bitmap(),
            1 => found[0].Clone(),
            _ => found[0].OrMany(found.Skip(1).Cast<Roaring32BitmapBase>().ToArray()),
        };
    }

    /// <summary>Bytes held: strings, dictionary entries and the bitmaps' serialized sizes.</summary>
    public long MemoryBytes
    {
        get
        {
            long bytes = _stringBytes + _values.Count * 48L;
            foreach (var b in _bitmaps) bytes += (long)b.GetSerializationSize(SerializationFormat.Portable);
            return bytes;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var b in _bitmaps) b.Dispose();
        _bitmaps.Clear();
    }
}
