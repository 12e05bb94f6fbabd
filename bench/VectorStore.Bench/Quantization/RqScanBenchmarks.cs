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
    private readonly Dictionary<string, byte[]> _blocks = [];
    private readonly Dictionary<string, VectorCodec> _codecs = [];

    [GlobalSetup]
    public void Setup()
    {
        var data = SyntheticData.Clustered(Codes + 1, Dim, seed: 7, normalize: true);
        var sample = data.Slice(0, Codes);
        foreach (var spec in new[] { "sq8", "rq:1", "rq:2", "rq:4", "rq:4,1", "rq:8", "bin" })
        {
            // Trained on a quarter of the codes (rq:B then has 52 centroids): k-means on all of them would dominate the
            // set-up of the CI dry run, and the centroid count does not change the per-code cost.
            var codec = CodecRegistry.Train(CompressionSpec.Parse(spec), sample.Slice(0, Codes / 4), DistanceKind.NegativeDot);
            var codes = new byte[Codes * codec.CodeSize];
            codec.EncodeBatch(sample, codes);
            var scorer = codec.CreateScorer(DistanceKind.NegativeDot);
            scorer.SetQuery(data.Row(Codes));
            _scorers[spec] = (scorer, codes, codec.CodeSize);
            _codecs[spec] = codec;
            if (spec == "sq8")
            {
                var traversal = codec.CreateTraversalScorer(DistanceKind.NegativeDot);
                traversal.SetQuery(data.Row(Codes));
                _scorers["sq8-int8"] = (traversal, codes, codec.CodeSize);
            }
        }
        // rq:1 and rq:2 as flat and IVF indexes hold them: packed in fast-scan blocks of 32.
        foreach (var spec in new[] { "rq:1", "rq:2", "rq:4" })
        {
            var (_, codes, size) = _scorers[spec];
            var layout = _codecs[spec].BlockLayout!;
            int blocks = (Codes + layout.BlockVectors - 1) / layout.BlockVectors;
            var packed = new byte[blocks * layout.BlockBytes];
            for (int b = 0; b < blocks; b++)
            {
                int n = Math.Min(layout.BlockVectors, Codes - b * layout.BlockVectors);
                layout.PackBlock(codes.AsSpan(b * layout.BlockVectors * size, n * size), n, packed.AsSpan(b * layout.BlockBytes, layout.BlockBytes));
            }
            _blocks[spec] = packed;
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

    /// <summary>rq:4 one code at a time through its SIMD kernel (what HNSW and refine use).</summary>
    [Benchmark(OperationsPerInvoke = Codes)] public float Rq4() => Scan("rq:4");

    /// <summary>rq:4's integer kernel alone (Σu·q̃ per code, no factors): how much of a code's time is the kernel.</summary>
    [Benchmark(OperationsPerInvoke = Codes)]
    public int Rq4Kernel()
    {
        int size = _rq4Codes.Length / Codes, sum = 0;
        for (int i = 0; i < Codes; i++) sum += _rq4.CodeDot(_rq4Codes.AsSpan(i * size, size));
        return sum;
    }

    /// <summary>rq:4 with one centre (no centroid term per code): what the centroids cost per code.</summary>
    [Benchmark(OperationsPerInvoke = Codes)] public float Rq4SingleCentre() => Scan("rq:4,1");

    /// <summary>rq:4 through the scalar reference kernel (same formula, same result).</summary>
    [Benchmark(OperationsPerInvoke = Codes)]
    public float Rq4Scalar()
    {
        int size = _rq4Codes.Length / Codes;
        for (int i = 0; i < Codes; i++) _dist[i] = _rq4.DistanceScalar(_rq4Codes.AsSpan(i * size, size));
        return _dist[^1];
    }

    private float ScanBlocks(string spec)
    {
        ((IBlockScorer)_scorers[spec].Scorer).ScanBlocks(_blocks[spec], Codes, _dist);
        return _dist[^1];
    }

    /// <summary>rq:1 through the fast-scan blocks (what flat and IVF scans use).</summary>
    [Benchmark(OperationsPerInvoke = Codes)] public float Rq1FastScan() => ScanBlocks("rq:1");

    /// <summary>rq:4 through the fast-scan blocks (two 2-bit planes).</summary>
    [Benchmark(OperationsPerInvoke = Codes)] public float Rq4FastScan() => ScanBlocks("rq:4");

    /// <summary>rq:2 through the fast-scan blocks.</summary>
    [Benchmark(OperationsPerInvoke = Codes)] public float Rq2FastScan() => ScanBlocks("rq:2");

    /// <summary>rq:1 (sliced 1-bit kernel, one code at a time: what HNSW and refine use).</summary>
    [Benchmark(OperationsPerInvoke = Codes)] public float Rq1() => Scan("rq:1");

    /// <summary>bin (popcount over 4-bit query planes), the same bytes as rq:1.</summary>
    [Benchmark(OperationsPerInvoke = Codes)] public float Bin() => Scan("bin");

    /// <summary>rq:2 (one code at a time).</summary>
    [Benchmark(OperationsPerInvoke = Codes)] public float Rq2() => Scan("rq:2");

    /// <summary>rq:8.</summary>
    [Benchmark(OperationsPerInvoke = Codes)] public float Rq8() => Scan("rq:8");
}
