using BenchmarkDotNet.Attributes;
using VectorStore.Collections;
using VectorStore.Distance;
using VectorStore.Storage;

namespace VectorStore.Bench.Collections;

/// <summary>
/// The re-rank step of a search: exact distances for 100 random slots of a 50,000 × 384 raw store (77 MB, so the
/// vectors come from DRAM, as in a real search). Baseline: the per-slot loop <c>Collection.SearchLocked</c> used, over
/// the layout <see cref="RawVectorStore"/> had before (plain 4,096-vector arrays on small pages); then the same loop
/// over today's store (huge pages on Linux), and <see cref="RawVectorStore.ComputeDistances"/> (huge pages and
/// prefetching). Each invocation takes the next of 4,096 random slot lists so the caches do not learn them. Run:
/// <c>dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*RerankBenchmarks*'</c>
/// </summary>
public class RerankBenchmarks
{
    private const int Lists = 4096;
    private RawVectorStore _store = null!;
    private float[][] _plainChunks = [];
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
        _plainChunks = new float[(data.Count + 4095) / 4096][];
        for (int c = 0; c < _plainChunks.Length; c++) _plainChunks[c] = new float[4096 * data.Dimension];
        for (int i = 0; i < data.Count; i++) data.Row(i).CopyTo(_plainChunks[i >> 12].AsSpan((i & 4095) * data.Dimension));
        var rng = new Random(7);
        _slots = new int[Lists][];
        for (int l = 0; l < Lists; l++) _slots[l] = Enumerable.Range(0, Candidates).Select(_ => rng.Next(data.Count)).ToArray();
        _query = data.Row(rng.Next(data.Count)).ToArray();
    }

    [Benchmark(Baseline = true)]
    public float PerSlotLoopPlainArrays()
    {
        var slots = _slots[_next++ & (Lists - 1)];
        int dim = _query.Length;
        for (int i = 0; i < slots.Length; i++)
        {
            int s = slots[i];
            _out[i] = Distances.Compute(DistanceKind.NegativeDot, _query, _plainChunks[s >> 12].AsSpan((s & 4095) * dim, dim));
        }
        return _out[0];
    }

    [Benchmark]
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
