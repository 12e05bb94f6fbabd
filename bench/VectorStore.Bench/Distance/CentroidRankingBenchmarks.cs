using BenchmarkDotNet.Attributes;
using VectorStore.Clustering;
using VectorStore.Distance;
using VectorStore.Indexing.Ivf;

namespace VectorStore.Bench.Distance;

/// <summary>
/// IVF probing's first step: one 384-d query against 256 coarse centroids. Baseline: one
/// <see cref="DotProduct.Compute"/> per centroid (what <c>IvfIndex.Search</c> did); against it, the blocked
/// <see cref="CentroidSet.Dots"/> (four centroids per pass). Centroids are rows of the text set (or synthetic data),
/// queries cycle through 64 others. Run:
/// <c>dotnet run -c Release --project bench/VectorStore.Bench -- --filter '*CentroidRankingBenchmarks*'</c>
/// </summary>
public class CentroidRankingBenchmarks
{
    private CentroidSet _set = null!;
    private VectorMatrix _queries = null!;
    private float[] _dots = [];
    private int _next;

    /// <summary>Number of centroids (IVF lists).</summary>
    [Params(256)]
    public int Centroids { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var data = BenchData.TextBaseOrSynthetic();
        _set = new CentroidSet(data.Slice(0, Centroids));
        _queries = data.Slice(Centroids, 64);
        _dots = new float[Centroids];
    }

    [Benchmark(Baseline = true)]
    public float PerCentroid()
    {
        var q = _queries.Row(_next++ & 63);
        var c = _set.Centroids;
        for (int i = 0; i < _dots.Length; i++) _dots[i] = DotProduct.Compute(q, c.Row(i));
        return _dots[0];
    }

    [Benchmark]
    public float Blocked()
    {
        _set.Dots(_queries.Row(_next++ & 63), _dots);
        return _dots[0];
    }
}
