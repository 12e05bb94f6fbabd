using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using VectorStore.Collections;
using VectorStore.Evaluation;

namespace VectorStore.Bench.Storage;

/// <summary>
/// Reopening a 1M-vector synthetic collection (snapshot load, no re-training or re-building) against loading it
/// (durable ingest in batches of 10,000 plus the clean-close snapshot).
/// Run: dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*Reopen*'
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 0, iterationCount: 2)]
public class ReopenBenchmarks
{
    private const int Batch = 10_000;
    private VectorMatrix _data = null!;
    private ulong[] _ids = null!;
    private string _prebuilt = "";
    private string _scratch = "";

    /// <summary>Vectors in the collection.</summary>
    [Params(1_000_000)]
    public int Count { get; set; }

    /// <summary>Dimension.</summary>
    [Params(64)]
    public int Dimension { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = SyntheticData.Clustered(Count, Dimension, seed: 3);
        _ids = Enumerable.Range(0, Count).Select(i => (ulong)i).ToArray();
        _prebuilt = NewDir();
        Load(_prebuilt);
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_prebuilt, recursive: true);

    [IterationSetup(Target = nameof(LoadCollection))]
    public void NewScratch() => _scratch = NewDir();

    [IterationCleanup(Target = nameof(LoadCollection))]
    public void RemoveScratch() => Directory.Delete(_scratch, recursive: true);

    private static string NewDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "vectorstore-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    private void Load(string dir)
    {
        using var db = VectorDatabase.Open(dir);
        var c = db.CreateCollection("synthetic", new CollectionOptions { Dimension = Dimension, Metric = Metric.L2, Compression = "sq8" });
        for (int start = 0; start < Count; start += Batch)
        {
            int n = Math.Min(Batch, Count - start);
            c.UpsertBatch(new ArraySegment<ulong>(_ids, start, n), _data.Slice(start, n));
        }
    }

    [Benchmark(Baseline = true)]
    public void LoadCollection() => Load(_scratch);

    [Benchmark]
    public int ReopenCollection()
    {
        using var db = VectorDatabase.Open(_prebuilt);
        var c = db.GetCollection("synthetic");
        if (!c.GetStats().Trained || c.Count != Count) throw new InvalidOperationException("reopened collection is incomplete");
        return c.Count;
    }
}
