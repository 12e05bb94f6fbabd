using BenchmarkDotNet.Attributes;
using VectorStore.Distance;

namespace VectorStore.Bench.Distance;

/// <summary>
/// Each float32 and int8 kernel against its scalar reference at embedding dimensions, in one run: the Ratio column
/// is the speed-up of the vectorized path. Run:
/// <c>dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*KernelBenchmarks*'</c>
/// </summary>
[MemoryDiagnoser]
public class KernelBenchmarks
{
    private float[] _a = [], _b = [];
    private sbyte[] _ca = [], _cb = [];

    [Params(384)]
    public int Dim { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(1);
        _a = Enumerable.Range(0, Dim).Select(_ => (float)rng.NextDouble()).ToArray();
        _b = Enumerable.Range(0, Dim).Select(_ => (float)rng.NextDouble()).ToArray();
        _ca = Enumerable.Range(0, Dim).Select(_ => (sbyte)rng.Next(-128, 128)).ToArray();
        _cb = Enumerable.Range(0, Dim).Select(_ => (sbyte)rng.Next(-128, 128)).ToArray();
    }

    [Benchmark(Baseline = true), BenchmarkCategory("dot")] public float DotScalar() => DotProduct.ComputeScalar(_a, _b);
    [Benchmark, BenchmarkCategory("dot")] public float DotSimd() => DotProduct.Compute(_a, _b);
}

/// <summary>Squared L2 kernels vs scalar reference.</summary>
[MemoryDiagnoser]
public class L2KernelBenchmarks
{
    private float[] _a = [], _b = [];

    [Params(384)]
    public int Dim { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(2);
        _a = Enumerable.Range(0, Dim).Select(_ => (float)rng.NextDouble()).ToArray();
        _b = Enumerable.Range(0, Dim).Select(_ => (float)rng.NextDouble()).ToArray();
    }

    [Benchmark(Baseline = true)] public float L2Scalar() => SquaredL2.ComputeScalar(_a, _b);
    [Benchmark] public float L2Simd() => SquaredL2.Compute(_a, _b);
}

/// <summary>Asymmetric float×int8 dot vs scalar reference.</summary>
[MemoryDiagnoser]
public class Int8AsymmetricKernelBenchmarks
{
    private float[] _q = [];
    private sbyte[] _c = [];

    [Params(384)]
    public int Dim { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        _q = Enumerable.Range(0, Dim).Select(_ => (float)rng.NextDouble()).ToArray();
        _c = Enumerable.Range(0, Dim).Select(_ => (sbyte)rng.Next(-128, 128)).ToArray();
    }

    [Benchmark(Baseline = true)] public float F32I8Scalar() => DotProductF32I8.ComputeScalar(_q, _c);
    [Benchmark] public float F32I8Simd() => DotProductF32I8.Compute(_q, _c);
}

/// <summary>Symmetric int8 dot and L2 (exact int32) vs scalar reference.</summary>
[MemoryDiagnoser]
public class Int8SymmetricKernelBenchmarks
{
    private sbyte[] _a = [], _b = [];

    [Params(384)]
    public int Dim { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(4);
        _a = Enumerable.Range(0, Dim).Select(_ => (sbyte)rng.Next(-128, 128)).ToArray();
        _b = Enumerable.Range(0, Dim).Select(_ => (sbyte)rng.Next(-128, 128)).ToArray();
    }

    [Benchmark(Baseline = true)] public int I8DotScalar() => DotProductI8.ComputeScalar(_a, _b);
    [Benchmark] public int I8DotSimd() => DotProductI8.Compute(_a, _b);
    [Benchmark] public int I8L2Scalar() => SquaredL2I8.ComputeScalar(_a, _b);
    [Benchmark] public int I8L2Simd() => SquaredL2I8.Compute(_a, _b);
}

/// <summary>The bit-plane popcount of <c>bin</c> codes (384 dims: 6 words) vs the scalar loop; on x86 both are <c>popcnt</c>.</summary>
[MemoryDiagnoser]
public class PopCountPlanesKernelBenchmarks
{
    private ulong[] _bits = [], _planes = [];

    [Params(384)]
    public int Dim { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(5);
        int words = (Dim + 63) / 64;
        _bits = Enumerable.Range(0, words).Select(_ => (ulong)rng.NextInt64()).ToArray();
        _planes = Enumerable.Range(0, PopCountPlanes.Planes * words).Select(_ => (ulong)rng.NextInt64()).ToArray();
    }

    [Benchmark(Baseline = true)] public int PopCountScalar() => PopCountPlanes.ComputeScalar(_bits, _planes, out _);
    [Benchmark] public int PopCountSimd() => PopCountPlanes.Compute(_bits, _planes, out _);
}

/// <summary>
/// The sq8 encoding step (codes and decoded norm) vs its scalar reference, per vector: the scalar loop was the
/// largest managed cost of a durable sq8 load. Run: <c>dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*Sq8EncodeKernelBenchmarks*'</c>
/// </summary>
[MemoryDiagnoser]
public class Sq8EncodeKernelBenchmarks
{
    private float[] _v = [], _mid = [], _step = [], _invStep = [];
    private sbyte[] _codes = [];

    [Params(128, 384)]
    public int Dim { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        _v = Enumerable.Range(0, Dim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        _mid = Enumerable.Range(0, Dim).Select(_ => (float)(rng.NextDouble() * 0.2 - 0.1)).ToArray();
        _step = Enumerable.Range(0, Dim).Select(_ => (float)(rng.NextDouble() * 0.01 + 0.005)).ToArray();
        _invStep = _step.Select(s => 1f / s).ToArray();
        _codes = new sbyte[Dim];
    }

    [Benchmark(Baseline = true)] public double EncodeScalar() => Sq8Encode.EncodeScalar(_v, 1f, 1f, _mid, _step, _invStep, _codes);
    [Benchmark] public double EncodeSimd() => Sq8Encode.Encode(_v, 1f, 1f, _mid, _step, _invStep, _codes);
}
