using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using VectorStore.Distance;

namespace VectorStore.Bench.Quantization;

/// <summary>
/// Product-quantization scan throughput, each SIMD kernel against its scalar reference in the same run.
/// Times are per code (OperationsPerInvoke = codes scanned), so codes/s per core = 1 / time; bytes of codes read per
/// code are M (8-bit, <c>pq:48</c>) and M/2 (4-bit, <c>pq:96x4</c>). Codes are random (the kernels are data-oblivious)
/// and sized like one scan of the 50,000-vector text set. Run:
/// <c>dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*PqScanBenchmarks*' '*KMeansBenchmarks*' --job short</c>
/// </summary>
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class PqScanBenchmarks
{
    private const int Codes = 50_016; // a multiple of 32, close to the text set's 50,000
    private const int M8 = 48;
    private const int M4 = 96;
    private byte[] _codes8 = [];
    private float[] _table8 = [];
    private float[] _dist = [];
    private byte[] _blocks4 = [];
    private byte[] _lut4 = [];
    private ushort[] _sums4 = [];
    private byte[] _luts4 = [];
    private int[] _members = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _codes8 = new byte[Codes * M8];
        rng.NextBytes(_codes8);
        _table8 = new float[M8 * 256];
        for (int i = 0; i < _table8.Length; i++) _table8[i] = (float)rng.NextDouble();
        _dist = new float[Codes];
        _blocks4 = new byte[Codes / 32 * PqFastScan.BlockBytes(M4)];
        rng.NextBytes(_blocks4);
        _lut4 = new byte[M4 * 16];
        rng.NextBytes(_lut4);
        _sums4 = new ushort[Codes];
        _luts4 = new byte[BatchQueries * M4 * 16];
        rng.NextBytes(_luts4);
        _members = Enumerable.Range(0, BatchQueries).ToArray();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Codes)]
    [BenchmarkCategory("pq8-scan")]
    public void Pq8Scalar() => PqScan.ComputeScalar(_codes8, M8, _table8, _dist);

    [Benchmark(OperationsPerInvoke = Codes)]
    [BenchmarkCategory("pq8-scan")]
    public void Pq8Interleaved() => PqScan.ComputeInterleaved(_codes8, M8, _table8, _dist);

    [Benchmark(OperationsPerInvoke = Codes)]
    [BenchmarkCategory("pq8-scan")]
    public void Pq8Gather() => PqScan.ComputeGather(_codes8, M8, _table8, _dist);

    [Benchmark(Baseline = true, OperationsPerInvoke = Codes)]
    [BenchmarkCategory("pq4-fastscan")]
    public void FastScan4Scalar() => PqFastScan.AccumulateScalar(_blocks4, Codes / 32, M4, _lut4, _sums4);

    [Benchmark(OperationsPerInvoke = Codes)]
    [BenchmarkCategory("pq4-fastscan")]
    public void FastScan4Simd() => PqFastScan.Accumulate(_blocks4, Codes / 32, M4, _lut4, _sums4);

    // A batched search's access pattern (FlatIndex.SearchBatch): a chunk of 8 blocks (256 codes) is scored for each of
    // 64 queries before the next chunk, one query per call against four per call. Time per code and query (the last
    // partial chunk is skipped: 3 of 1,563 blocks).
    private const int BatchQueries = 64;
    private const int ChunkBlocks = 8;

    [Benchmark(OperationsPerInvoke = Codes * BatchQueries)]
    [BenchmarkCategory("pq4-fastscan-batch")]
    public void FastScan4BatchOneByOne()
    {
        int bb = PqFastScan.BlockBytes(M4);
        for (int b0 = 0; b0 + ChunkBlocks <= Codes / 32; b0 += ChunkBlocks)
        {
            var chunk = _blocks4.AsSpan(b0 * bb, ChunkBlocks * bb);
            for (int q = 0; q < BatchQueries; q++)
                PqFastScan.Accumulate(chunk, ChunkBlocks, M4, _luts4.AsSpan(q * M4 * 16, M4 * 16), _sums4);
        }
    }

    [Benchmark(OperationsPerInvoke = Codes * BatchQueries)]
    [BenchmarkCategory("pq4-fastscan-batch")]
    public void FastScan4BatchFourPerPass()
    {
        int bb = PqFastScan.BlockBytes(M4);
        for (int b0 = 0; b0 + ChunkBlocks <= Codes / 32; b0 += ChunkBlocks)
        {
            var chunk = _blocks4.AsSpan(b0 * bb, ChunkBlocks * bb);
            for (int q = 0; q < BatchQueries; q += 4)
                PqFastScan.AccumulateQueries(chunk, ChunkBlocks, M4, _luts4, _members.AsSpan(q, 4), _sums4);
        }
    }
}
