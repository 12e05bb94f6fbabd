using VectorStore.Quantization;

namespace VectorStore.Indexing;

/// <summary>Per-query knobs an index may honour; unset values take the index's defaults.</summary>
public readonly record struct IndexSearchParameters
{
    /// <summary>HNSW beam width (ignored by other indexes). 0 = index default.</summary>
    public int Ef { get; init; }

    /// <summary>IVF lists probed (ignored by other indexes). 0 = index default.</summary>
    public int NProbe { get; init; }
}

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

/// <summary>
/// An index over compressed codes. It owns its codec and its codes; the collection owns ids, payloads and the
/// full-precision vectors, and refers to entries by dense integer slots.
/// </summary>
/// <remarks>
/// Thread-safety: unless an implementation says more, <see cref="Search"/> may run on many threads at once, and
/// mutations (<see cref="Add"/>, <see cref="Remove"/>) must be serialized with each other and with searches by the
/// caller (the collection holds a reader/writer lock).
/// </remarks>
public abstract class VectorIndex
{
    /// <summary>The canonical index spec (<c>flat</c>, <c>ivf:256</c>, <c>hnsw:16</c>).</summary>
    public abstract string Spec { get; }

    /// <summary>Registry name.</summary>
    public abstract string Kind { get; }

    /// <summary>The codec the index scores with.</summary>
    public abstract VectorCodec Codec { get; }

    /// <summary>Distance used for scoring.</summary>
    public abstract DistanceKind DistanceKind { get; }

    /// <summary>Number of live entries.</summary>
    public abstract int Count { get; }

    /// <summary>
    /// Resident bytes of codes and index structures (links, lists, centroids, codebooks), not counting full-precision
    /// vectors kept for re-ranking.
    /// </summary>
    public abstract long MemoryBytes { get; }

    /// <summary>Whether this index honours <see cref="Search"/>'s own filter (else the collection post-filters).</summary>
    public virtual bool SupportsFilter => true;

    /// <summary>
    /// Whether <see cref="Search"/> may run while <see cref="Add"/>, <see cref="AddBatch"/> or <see cref="Remove"/> are in
    /// progress (the index synchronizes itself); the collection then keeps serving searches during inserts.
    /// </summary>
    public virtual bool SupportsConcurrentSearch => false;

    /// <summary>Adds (or replaces) the vector at <paramref name="slot"/>.</summary>
    public abstract void Add(int slot, ReadOnlySpan<float> vector);

    /// <summary>Adds many vectors; the default calls <see cref="Add"/> in order, indexes that can build in parallel override it.</summary>
    public virtual void AddBatch(ReadOnlySpan<int> slots, VectorMatrix vectors, int threads)
    {
        for (int i = 0; i < slots.Length; i++) Add(slots[i], vectors.Row(i));
    }

    /// <summary>Removes <paramref name="slot"/>; unknown slots are ignored.</summary>
    public abstract void Remove(int slot);

    /// <summary>
    /// Pushes the best candidates for <paramref name="query"/> (already normalized for cosine) into
    /// <paramref name="results"/>, whose capacity says how many are wanted. Distances are the codec's estimates.
    /// </summary>
    public abstract void Search(ReadOnlySpan<float> query, in IndexSearchParameters parameters, SlotFilter? filter, TopK results);

    /// <summary>Writes the whole index (codec included) for a snapshot.</summary>
    public abstract void Write(BinaryWriter writer);
}

/// <summary>A parsed index spec: <c>flat</c>, <c>ivf:NLIST</c>, <c>hnsw:M[,EFC]</c>.</summary>
/// <param name="Name">Registry name.</param>
/// <param name="Arguments">Comma-separated arguments after ':'.</param>
public sealed record IndexSpec(string Name, IReadOnlyList<string> Arguments)
{
    /// <summary>Parses <paramref name="text"/>.</summary>
    public static IndexSpec Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new InvalidArgumentException("index spec is empty");
        var t = text.Trim().ToLowerInvariant();
        int colon = t.IndexOf(':');
        return colon < 0
            ? new IndexSpec(t, [])
            : new IndexSpec(t[..colon], t[(colon + 1)..].Split(',', StringSplitOptions.TrimEntries));
    }

    /// <summary>Argument <paramref name="i"/> as a positive integer, or <paramref name="fallback"/> when absent.</summary>
    public int IntArgument(int i, string what, int? fallback = null)
    {
        if (i >= Arguments.Count)
            return fallback ?? throw new InvalidArgumentException($"index '{this}' needs {what}");
        if (!int.TryParse(Arguments[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int v) || v <= 0)
            throw new InvalidArgumentException($"index '{this}': {what} must be a positive integer, got '{Arguments[i]}'");
        return v;
    }

    /// <inheritdoc />
    public override string ToString() => Arguments.Count == 0 ? Name : $"{Name}:{string.Join(',', Arguments)}";
}

/// <summary>Creates and reads one kind of index; discovered by <see cref="IndexRegistry"/> through reflection.</summary>
public interface IIndexFactory
{
    /// <summary>Registry names (e.g. <c>hnsw</c>).</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>
    /// Trains whatever the index needs (codec, coarse centroids) on <paramref name="sample"/> and returns an empty index.
    /// </summary>
    VectorIndex Create(IndexSpec spec, CompressionSpec compression, int dimension, DistanceKind kind, VectorMatrix sample, TrainingContext context);

    /// <summary>Reads an index written by <see cref="VectorIndex.Write"/>.</summary>
    VectorIndex Read(string name, BinaryReader reader);

    /// <summary>
    /// Checks the spec's arguments without training, so a bad spec fails when the collection is created rather than
    /// when it first trains; throws <see cref="InvalidArgumentException"/>. The default accepts any arguments.
    /// </summary>
    void Validate(IndexSpec spec) { }
}

/// <summary>Finds index factories; reads and writes indexes with a kind tag. Thread-safe.</summary>
public static class IndexRegistry
{
    private static readonly Lazy<Dictionary<string, IIndexFactory>> s_factories = new(() =>
    {
        var map = new Dictionary<string, IIndexFactory>(StringComparer.Ordinal);
        foreach (var type in typeof(IndexRegistry).Assembly.GetTypes())
        {
            if (type.IsAbstract || type.IsInterface || !typeof(IIndexFactory).IsAssignableFrom(type) || type.GetConstructor(Type.EmptyTypes) is null)
                continue;
            var f = (IIndexFactory)Activator.CreateInstance(type)!;
            foreach (var n in f.Names) map.Add(n, f);
        }
        return map;
    });

    /// <summary>Names of every known index kind.</summary>
    public static IEnumerable<string> Names => s_factories.Value.Keys;

    /// <summary>The factory for <paramref name="spec"/>, or an <see cref="InvalidArgumentException"/>.</summary>
    public static IIndexFactory Get(IndexSpec spec) =>
        s_factories.Value.TryGetValue(spec.Name, out var f)
            ? f
            : throw new InvalidArgumentException($"unknown index '{spec}' (known: {string.Join(", ", s_factories.Value.Keys.Order())})");

    /// <summary>Writes the index with its kind tag.</summary>
    public static void Write(VectorIndex index, BinaryWriter writer)
    {
        writer.Write(index.Kind);
        index.Write(writer);
    }

    /// <summary>Reads an index written by <see cref="Write"/>.</summary>
    public static VectorIndex Read(BinaryReader reader)
    {
        string kind = reader.ReadString();
        if (!s_factories.Value.TryGetValue(kind, out var f)) throw new InvalidDataException($"unknown index kind '{kind}'");
        return f.Read(kind, reader);
    }
}
