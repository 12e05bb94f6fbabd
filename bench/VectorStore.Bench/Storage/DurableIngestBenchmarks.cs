using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using VectorStore.Collections;
using VectorStore.Drift;
using VectorStore.Evaluation;
using VectorStore.IO;

namespace VectorStore.Bench.Storage;

/// <summary>
/// Durable batch ingest of the shared text set (50,000 × 384, cosine, sq8, flat) through the write-ahead log against
/// the floor: a plain FileStream append + fsync of the same vector bytes per batch, and against the same batches into
/// an in-memory collection (what the collection itself costs without any storage). Times are per vector.
/// Run: dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*DurableIngest*'
/// </summary>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class DurableIngestBenchmarks
{
    private VectorMatrix _data = null!;
    // The batches, cut once: the floor writes straight from the loaded array, so slicing inside the measured loop
    // would charge the store for a copy (and its page faults) that the floor does not make.
    private VectorMatrix[] _batches = null!;
    private ulong[] _ids = null!;
    private string _dir = "";

    /// <summary>Vectors per acknowledged batch.</summary>
    [Params(1000)]
    public int Batch { get; set; }

    private const int Vectors = 50_000;

    [GlobalSetup]
    public void Setup()
    {
        var dir = Dataset.FindShared("debdesc-minilm384-public") ?? throw new InvalidOperationException("../shared/data/debdesc-minilm384-public is required");
        _data = VectorFiles.ReadFvecs(Path.Combine(dir, "debdesc-minilm384-public_base.fvecs"), Vectors);
        _ids = Enumerable.Range(0, _data.Count).Select(i => (ulong)i).ToArray();
        _batches = Enumerable.Range(0, (_data.Count + Batch - 1) / Batch)
            .Select(b => _data.Slice(b * Batch, Math.Min(Batch, _data.Count - b * Batch))).ToArray();
    }

    [IterationSetup]
    public void NewDirectory()
    {
        _dir = Path.Combine(Path.GetTempPath(), "vectorstore-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [IterationCleanup]
    public void RemoveDirectory() => Directory.Delete(_dir, recursive: true);

    [Benchmark(Baseline = true, OperationsPerInvoke = Vectors)]
    public void FileStreamAppendFsync()
    {
        using var fs = new FileStream(Path.Combine(_dir, "plain.bin"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        for (int start = 0; start < _data.Count; start += Batch)
        {
            int n = Math.Min(Batch, _data.Count - start);
            fs.Write(MemoryMarshal.AsBytes(_data.Data.AsSpan(start * _data.Dimension, n * _data.Dimension)));
            fs.Flush(flushToDisk: true);
        }
    }

    /// <summary>The same batches into an in-memory collection: separates the collection's own cost from the log's.</summary>
    [Benchmark(OperationsPerInvoke = Vectors)]
    public void VectorStoreInMemoryUpsertBatch()
    {
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("text", new CollectionOptions { Dimension = _data.Dimension, Metric = Metric.Cosine, Compression = "sq8" });
        UpsertAll(c);
    }

    [Benchmark(OperationsPerInvoke = Vectors)]
    public void VectorStoreDurableUpsertBatch() => DurableIngest(new DriftSettings());

    /// <summary>
    /// The same with the drift sensors' periodic tests run back to back (<see cref="DriftSettings.TestCpuShare"/> 1,
    /// as before they had a CPU budget): what the budget saves the writers.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Vectors)]
    public void VectorStoreDurableUpsertBatchDriftTestsUnthrottled() => DurableIngest(new DriftSettings { TestCpuShare = 1 });

    private VectorDatabase? _trainedDb;
    private Collection? _trained;

    /// <summary>A durable collection trained on 2,000 other vectors of the set (ids from 1,000,000), before the clock starts.</summary>
    [IterationSetup(Targets = [nameof(VectorStoreDurableUpsertBatchIntoTrainedCollection), nameof(VectorStoreDurableUpsertBatchIntoTrainedCollectionTwoWriters)])]
    public void NewTrainedCollection()
    {
        NewDirectory();
        _trainedDb = VectorDatabase.Open(_dir);
        _trained = _trainedDb.CreateCollection("text", new CollectionOptions
        {
            Dimension = _data.Dimension, Metric = Metric.Cosine, Compression = "sq8", TrainingThreshold = 2_000,
        });
        var first = Enumerable.Range(0, 2_000).Select(i => 1_000_000UL + (ulong)i).ToArray();
        _trained.UpsertBatch(first, _data.Slice(_data.Count - 2_000, 2_000));
        if (_trained.Index is null) throw new InvalidOperationException("the collection did not train");
    }

    /// <summary>
    /// Sustained ingest: the same batches into a collection that is already trained, so the one-off training (and
    /// the drift baseline built with it) is outside the measurement, as it is for any load after the first.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Vectors)]
    public void VectorStoreDurableUpsertBatchIntoTrainedCollection()
    {
        var c = _trained!;
        UpsertAll(c);
        _trainedDb!.SimulateCrash();
    }

    /// <summary>
    /// The same batches from two writer threads (as <c>vectorstore load --writers 2</c>): each batch is still
    /// acknowledged only once durable, but one writer's batch is applied while the other's commits, and the two may
    /// share a commit. The floor stays one stream of per-batch fsyncs.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Vectors)]
    public void VectorStoreDurableUpsertBatchIntoTrainedCollectionTwoWriters()
    {
        var c = _trained!;
        int next = -1;
        void Writer()
        {
            for (int b; (b = Interlocked.Increment(ref next)) < _batches.Length;)
                c.UpsertBatch(new ArraySegment<ulong>(_ids, b * Batch, _batches[b].Count), _batches[b]);
        }
        var other = new Thread(Writer);
        other.Start();
        Writer();
        other.Join();
        _trainedDb!.SimulateCrash();
    }

    [IterationCleanup(Targets = [nameof(VectorStoreDurableUpsertBatchIntoTrainedCollection), nameof(VectorStoreDurableUpsertBatchIntoTrainedCollectionTwoWriters)])]
    public void RemoveTrainedCollection()
    {
        _trainedDb?.Dispose();
        RemoveDirectory();
    }

    /// <summary>Every batch, ids in order, each acknowledged before the next.</summary>
    private void UpsertAll(Collection c)
    {
        for (int b = 0; b < _batches.Length; b++)
            c.UpsertBatch(new ArraySegment<ulong>(_ids, b * Batch, _batches[b].Count), _batches[b]);
    }

    private void DurableIngest(DriftSettings drift)
    {
        using var db = VectorDatabase.Open(_dir);
        var c = db.CreateCollection("text", new CollectionOptions { Dimension = _data.Dimension, Metric = Metric.Cosine, Compression = "sq8" });
        c.DriftSettings = drift;
        UpsertAll(c);
        db.SimulateCrash(); // stop at the last acknowledgement: no clean-close snapshot in the measurement
    }
}
