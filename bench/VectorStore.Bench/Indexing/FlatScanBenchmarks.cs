using BenchmarkDotNet.Attributes;
using VectorStore.Indexing;
using VectorStore.Indexing.Flat;
using VectorStore.Quantization;
using VectorStore.Ranking;

namespace VectorStore.Bench.Indexing;

/// <summary>
/// Flat top-10 scan over 50,000 codes: float32 baseline vs sq8. Vectors/s = 50,000 / mean time. Uses the shared
/// text set when present (the path is walked up from the working directory), else clustered synthetic data.
/// </summary>
[MemoryDiagnoser]
public class FlatScanBenchmarks
{
    private FlatIndex _f32 = null!, _sq8 = null!;
    private float[] _query = [];
    private readonly TopK _heap = new(10);

    [GlobalSetup]
    public void Setup()
    {
        var data = BenchData.TextBaseOrSynthetic();
        _query = data.Row(123).ToArray();
        var slots = Enumerable.Range(0, data.Count).ToArray();
        _f32 = new FlatIndex(new Float32Codec(data.Dimension), DistanceKind.NegativeDot, data.Count);
        _f32.AddBatch(slots, data, 0);
        _sq8 = new FlatIndex(ScalarQuantizer.Train(data), DistanceKind.NegativeDot, data.Count);
        _sq8.AddBatch(slots, data, 0);
    }

    [Benchmark(Baseline = true)]
    public int ScanFloat32()
    {
        _heap.Reset(10);
        _f32.Search(_query, default, null, _heap);
        return _heap.Count;
    }

    [Benchmark]
    public int ScanSq8()
    {
        _heap.Reset(10);
        _sq8.Search(_query, default, null, _heap);
        return _heap.Count;
    }
}
