using System.Reflection;
using System.Runtime.InteropServices;
using Cloud.Unum.USearch;
using VectorStore.Collections;
using VectorStore.Evaluation;

namespace VectorStore.Bench.Indexing;

/// <summary>One ANN engine under the same harness: build once, then search every query at a beam width.</summary>
public interface IAnnEngine : IDisposable
{
    string Name { get; }

    /// <summary>Bytes per vector the engine reports for its index (codes + links).</summary>
    double BytesPerVector { get; }

    void Build(Dataset ds, int threads);

    void SetEf(int ef);

    /// <summary>Top-10 base row ids for <paramref name="query"/>.</summary>
    int Search(float[] query, Span<long> found);
}

/// <summary>VectorStore: a collection with sq8 codes, an HNSW index and exact re-ranking.</summary>
public sealed class VectorStoreEngine(string compression, int m, int efc, int rerank) : IAnnEngine
{
    private Collection? _col;
    private SearchOptions _opts = new() { K = 10, Rerank = rerank };

    public string Name => $"vectorstore-{compression}-hnsw:{m},{efc}-rerank{rerank}";

    public double BytesPerVector { get; private set; }

    public void Build(Dataset ds, int threads)
    {
        _col = new Collection("bench", new CollectionOptions
        {
            Dimension = ds.Base.Dimension,
            Metric = ds.Name.Contains("sift") ? Metric.L2 : Metric.Cosine,
            Compression = compression,
            Index = $"hnsw:{m},{efc}",
            TrainingThreshold = int.MaxValue,
        });
        _col.UpsertBatch(Enumerable.Range(0, ds.Base.Count).Select(i => (ulong)i).ToArray(), ds.Base);
        _col.BuildIndex();
        var st = _col.GetStats();
        BytesPerVector = st.IndexBytes / (double)st.Count;
    }

    public void SetEf(int ef) => _opts = _opts with { Ef = ef };

    public int Search(float[] query, Span<long> found)
    {
        var hits = _col!.Search(query, _opts);
        for (int i = 0; i < hits.Length; i++) found[i] = (long)hits[i].Id;
        return hits.Length;
    }

    public void Dispose() { }
}

/// <summary>
/// USearch through its NuGet C# binding, in this process. The binding cannot set the search beam or reserve
/// capacity, so (like the peer harness in ../shared/peers/usearch-cs) the C ABI of the bundled libusearch_c is called.
/// </summary>
public sealed class UsearchEngine(ScalarKind scalar, ulong m, ulong efc) : IAnnEngine
{
    private USearchIndex? _index;
    private IntPtr _handle;

    public string Name => $"usearch-{scalar}-M{m}-efc{efc}";

    public double BytesPerVector { get; private set; }

    [DllImport("libusearch_c", CallingConvention = CallingConvention.Cdecl)]
    private static extern void usearch_change_expansion_search(IntPtr index, UIntPtr ef, out IntPtr error);

    [DllImport("libusearch_c", CallingConvention = CallingConvention.Cdecl)]
    private static extern void usearch_reserve(IntPtr index, UIntPtr capacity, out IntPtr error);

    [DllImport("libusearch_c", CallingConvention = CallingConvention.Cdecl)]
    private static extern UIntPtr usearch_memory_usage(IntPtr index, out IntPtr error);

    private static void Check(IntPtr err, string what)
    {
        if (err != IntPtr.Zero) throw new InvalidOperationException(what + ": " + Marshal.PtrToStringAnsi(err));
    }

    public void Build(Dataset ds, int threads)
    {
        var metric = ds.Name.Contains("sift") ? MetricKind.L2sq : MetricKind.Ip;
        _index = new USearchIndex(metric, scalar, (ulong)ds.Base.Dimension, m, efc, 64, false);
        _handle = (IntPtr)typeof(USearchIndex).GetField("_index", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(_index)!;
        usearch_reserve(_handle, (UIntPtr)(ulong)ds.Base.Count, out var err);
        Check(err, "reserve");
        var rows = Enumerable.Range(0, ds.Base.Count).Select(i => ds.Base.Row(i).ToArray()).ToArray();
        Parallel.For(0, rows.Length, new ParallelOptions { MaxDegreeOfParallelism = threads }, i => _index.Add((ulong)i, rows[i]));
        string file = Path.Combine(Path.GetTempPath(), $"usearch-{Guid.NewGuid():N}.usearch");
        _index.Save(file);
        BytesPerVector = new FileInfo(file).Length / (double)ds.Base.Count;
        File.Delete(file);
    }

    public void SetEf(int ef)
    {
        usearch_change_expansion_search(_handle, (UIntPtr)(ulong)ef, out var err);
        Check(err, "expansion_search");
    }

    public int Search(float[] query, Span<long> found)
    {
        int n = _index!.Search(query, 10, out ulong[] keys, out float[] _);
        for (int i = 0; i < n; i++) found[i] = (long)keys[i];
        return n;
    }

    public void Dispose() => _index?.Dispose();
}
