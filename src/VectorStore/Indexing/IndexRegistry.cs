using VectorStore.Indexing.Flat;
using VectorStore.Indexing.Hnsw;
using VectorStore.Indexing.Ivf;
using VectorStore.Quantization;

namespace VectorStore.Indexing;

/// <summary>Finds index factories; reads and writes indexes with a kind tag. Thread-safe.</summary>
public static class IndexRegistry
{
    /// <summary>
    /// Every index kind, listed explicitly (not discovered by reflection) so trimming and NativeAOT keep them. A new
    /// kind is a new folder under Indexing/ with its factory, plus one line here.
    /// </summary>
    private static readonly IIndexFactory[] s_all = [new FlatIndexFactory(), new IvfIndexFactory(), new HnswIndexFactory()];

    private static readonly Lazy<Dictionary<string, IIndexFactory>> s_factories = new(() =>
    {
        var map = new Dictionary<string, IIndexFactory>(StringComparer.Ordinal);
        foreach (var f in s_all)
            foreach (var n in f.Names) map.Add(n, f);
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
