using BenchmarkDotNet.Attributes;
using VectorStore.Evaluation;
using VectorStore.Quantization;

namespace VectorStore.Bench.Quantization;

/// <summary>
/// <c>rq:B</c> scoring throughput against the sq8 scorers and against rq:4's own scalar reference kernel, in one run
/// (issue 14's targets: rq:4 ≥ 1.5× sq8's codes/s, ≥ 10× its scalar reference). Times are per code
/// (OperationsPerInvoke = codes scored), each a full scorer pass (<c>DistanceBatch</c>: kernel plus the per-vector
/// factors), over 384-d codes of 8,192 clustered unit vectors (cosine, negative dot). Run:
/// <c>dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*RqScanBenchmarks*' --job short</c>
/// </summary>
public class RqScanBenchmarks
{
    private const int Codes = 8_192;
    private const int Dim = 384;
    private readonly Dictionary<string, (CodeScorer Scorer, byte[] Codes, int Size)> _scorers = [];
    private RotationScorer _rq4 = null!;
    private byte[] _rq4Codes = [];
    private float[] _dist = [];

    [GlobalSetup]
    public void Setup()
    {
        var data = SyntheticData.Clustered(Codes + 1, Dim, seed: 7, normalize: true);
        var sample = data.Slice(0, Codes);
        foreach (var spec in new[] { "sq8", "rq:1", "rq:2", "rq:4", "rq:8", "bin" })
        {
            var codec = CodecRegistry.Train(CompressionSpec.Parse(spec), sample, DistanceKind.NegativeDot);
            var codes = new byte[Codes * codec.CodeSize];
            codec.EncodeBatch(sample, codes);
            var scorer = codec.CreateScorer(DistanceKind.NegativeDot);
            scorer.SetQuery(data.Row(Codes));
            _scorers[spec] = (scorer, codes, codec.CodeSize);
            if (spec == "sq8")
            {
                var traversal = codec.CreateTraversalScorer(DistanceKind.NegativeDot);
                traversal.SetQuery(data.Row(Codes));
                _scorers["sq8-int8"] = (traversal, codes, codec.CodeSize);
            }
        }
        _rq4 = (RotationScorer)_scorers["rq:4"].Scorer;
        _rq4Codes = _scorers["rq:4"].Codes;
        _dist = new float[Codes];
    }

    private float Scan(string spec)
    {
        var (scorer, codes, size) = _scorers[spec];
        scorer.DistanceBatch(codes, size, _dist);
        return _dist[^1];
    }

    /// <summary>The sq8 scorer collections use for a flat scan (float query × int8 codes).</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Codes)] public float Sq8() => Scan("sq8");

    /// <summary>sq8's int8 traversal scorer (int8 query × int8 codes, as HNSW walks).</summary>
    [Benchmark(OperationsPerInvoke = Codes)] public float Sq8Int8() => Scan("sq8-int8");

    /// <summary>rq:4 through its SIMD kernel.</summary>
    [Benchmark(OperationsPerInvoke = Codes)] public float Rq4() => Scan("rq:4");

    /// <summary>rq:4 through the scalar reference kernel (same formula, same result).</summary>
    [Benchmark(OperationsPerInvoke = Codes)]
    public float Rq4Scalar()
    {
        int size = _rq4Codes.Length / Codes;
        for (int i = 0; i < Codes; i++) _dist[i] = _rq4.DistanceScalar(_rq4Codes.AsSpan(i * size, size));
        return _dist[^1];
    }

    /// <summary>rq:1 (sliced 1-bit kernel).</summary>
    [Benchmark(OperationsPerInvoke = Codes)] public float Rq1() => Scan("rq:1");

    /// <summary>bin (popcount over 4-bit query planes), the same bytes as rq:1.</summary>
    [Benchmark(OperationsPerInvoke = Codes)] public float Bin() => Scan("bin");

    /// <summary>rq:2.</summary>
    [Benchmark(OperationsPerInvoke = Codes)] public float Rq2() => Scan("rq:2");

    /// <summary>rq:8.</summary>
    [Benchmark(OperationsPerInvoke = Codes)] public float Rq8() => Scan("rq:8");
}
