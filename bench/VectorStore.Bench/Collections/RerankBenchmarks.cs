using BenchmarkDotNet.Attributes;
using VectorStore.Collections;
using VectorStore.Distance;

namespace VectorStore.Bench.Collections;

/// <summary>
/// The re-rank step of a search: exact distances for 100 random slots of a 50,000 × 384 raw store (77 MB, so the
/// vectors come from DRAM, as in a real search). Baseline: the per-slot loop <c>Collection.SearchLocked</c> used;
/// against it, <see cref="RawVectorStore.ComputeDistances"/> with its prefetching. Each invocation takes the next of
/// 4,096 random slot lists so the caches do not learn them. Run:
/// <c>dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*RerankBenchmarks*'</c>
/// </summary>
public class RerankBenchmarks
{
    private const int Lists = 4096;
    private RawVectorStore _store = null!;
    private int[][] _slots = [];
    private float[] _query = [];
    private readonly float[] _out = new float[Candidates];
    private int _next;

    /// <summary>Re-rank depth.</summary>
    public const int Candidates = 100;

    [GlobalSetup]
    public void Setup()
    {
        var data = BenchData.TextBaseOrSynthetic();
        _store = new RawVectorStore(data.Dimension);
        for (int i = 0; i < data.Count; i++) _store.Set(i, data.Row(i));
        var rng = new Random(7);
        _slots = new int[Lists][];
        for (int l = 0; l < Lists; l++) _slots[l] = Enumerable.Range(0, Candidates).Select(_ => rng.Next(data.Count)).ToArray();
        _query = data.Row(rng.Next(data.Count)).ToArray();
    }

    [Benchmark(Baseline = true)]
    public float PerSlotLoop()
    {
        var slots = _slots[_next++ & (Lists - 1)];
        for (int i = 0; i < slots.Length; i++) _out[i] = Distances.Compute(DistanceKind.NegativeDot, _query, _store.Get(slots[i]));
        return _out[0];
    }

    [Benchmark]
    public float Prefetching()
    {
        var slots = _slots[_next++ & (Lists - 1)];
        _store.ComputeDistances(DistanceKind.NegativeDot, _query, slots, _out);
        return _out[0];
    }
}
