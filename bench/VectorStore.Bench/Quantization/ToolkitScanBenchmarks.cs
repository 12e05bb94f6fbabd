using BenchmarkDotNet.Attributes;
using VectorStore.Indexing;
using VectorStore.Indexing.Flat;
using VectorStore.Quantization;
using VectorStore.Ranking;

namespace VectorStore.Bench.Quantization;

/// <summary>
/// Flat top-200 candidate scan over 50,000 codes with the toolkit's codecs, against sq8 in the same run: bin (popcount
/// over 48 bytes of bits + 2 factors), pca:128+sq8 (132-byte codes) and pca:96+sq8 (100-byte codes). Uses the shared text
/// set when present, else clustered synthetic data.
/// </summary>
[MemoryDiagnoser]
public class ToolkitScanBenchmarks
{
    private FlatIndex _sq8 = null!, _bin = null!, _pca128 = null!, _pca96 = null!;
    private float[] _query = [];
    private readonly TopK _heap = new(200);

    [GlobalSetup]
    public void Setup()
    {
        var data = BenchData.TextBaseOrSynthetic();
        _query = data.Row(123).ToArray();
        _sq8 = Build("sq8", data);
        _bin = Build("bin", data);
        _pca128 = Build("pca:128+sq8", data);
        _pca96 = Build("pca:96+sq8", data);
    }

    private static FlatIndex Build(string spec, VectorMatrix data)
    {
        var codec = CodecRegistry.Train(CompressionSpec.Parse(spec), data, DistanceKind.NegativeDot);
        var index = new FlatIndex(codec, DistanceKind.NegativeDot, data.Count);
        index.AddBatch(Enumerable.Range(0, data.Count).ToArray(), data, 0);
        return index;
    }

    private int Scan(FlatIndex index)
    {
        _heap.Reset(200);
        index.Search(_query, default, null, _heap);
        return _heap.Count;
    }

    [Benchmark(Baseline = true)]
    public int ScanSq8() => Scan(_sq8);

    [Benchmark]
    public int ScanBin() => Scan(_bin);

    [Benchmark]
    public int ScanPca128Sq8() => Scan(_pca128);

    [Benchmark]
    public int ScanPca96Sq8() => Scan(_pca96);
}
