using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using VectorStore.Distance;

namespace VectorStore.Bench.Quantization;

/// <summary>
/// Product-quantization scan throughput, each SIMD kernel against its scalar reference in the same run.
/// Times are per code (OperationsPerInvoke = codes scanned), so codes/s per core = 1 / time; bytes of codes read per
/// code are M (8-bit, <c>pq:48</c>) and M/2 (4-bit, <c>pq:96x4</c>). Codes are random (the kernels are data-oblivious)
/// and sized like one scan of the 50,000-vector text set. Run:
/// <c>dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*Quantization*' --job short</c>
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
}
