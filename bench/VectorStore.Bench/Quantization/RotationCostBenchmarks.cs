using BenchmarkDotNet.Attributes;
using VectorStore.Evaluation;
using VectorStore.Quantization;

namespace VectorStore.Bench.Quantization;

/// <summary>
/// What rq's dense random rotation costs per query or encode at 384-d, against the fast-Hadamard alternative it was
/// weighed against (384 padded to 512, three rounds of random signs + Walsh–Hadamard transform, the usual way to make
/// an FHT rotation random enough). Run:
/// <c>dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*RotationCostBenchmarks*' --job short</c>
/// </summary>
public class RotationCostBenchmarks
{
    private RotationQuantizer _rq = null!;
    private float[] _x = [], _y = [], _pad = [];
    private float[][] _signs = [];

    [GlobalSetup]
    public void Setup()
    {
        var data = SyntheticData.Clustered(100, 384, seed: 3, normalize: true);
        _rq = RotationQuantizer.Train(data, 4, seed: 1);
        _x = data.Row(0).ToArray();
        _y = new float[384];
        _pad = new float[512];
        var rng = new Random(5);
        _signs = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, 512).Select(_ => rng.Next(2) == 0 ? -1f : 1f).ToArray()).ToArray();
    }

    /// <summary>Dense 384×384 rotation (what rq uses).</summary>
    [Benchmark(Baseline = true)]
    public float Dense384()
    {
        _rq.Rotate(_x, _y);
        return _y[0];
    }

    /// <summary>Three rounds of sign flip + in-place fast Walsh–Hadamard transform on the 512-padded vector.</summary>
    [Benchmark]
    public float Hadamard512x3()
    {
        var v = _pad;
        Array.Clear(v);
        _x.CopyTo(v, 0);
        foreach (var s in _signs)
        {
            for (int i = 0; i < v.Length; i++) v[i] *= s[i];
            for (int h = 1; h < v.Length; h <<= 1)
                for (int i = 0; i < v.Length; i += h << 1)
                    for (int j = i; j < i + h; j++)
                    {
                        float a = v[j], b = v[j + h];
                        v[j] = a + b;
                        v[j + h] = a - b;
                    }
        }
        return v[0];
    }
}
