using VectorStore.Distance;
using VectorStore.Indexing;
using VectorStore.Threading;

namespace VectorStore.Ranking;

/// <summary>Exact nearest neighbours by brute force, in parallel: the baseline every compressed variant is judged by.</summary>
public static class GroundTruth
{
    /// <summary>
    /// The exact top-<paramref name="k"/> row indices of <paramref name="baseVectors"/> for every query (ties by
    /// lower index). For cosine, pass normalized vectors and <see cref="DistanceKind.NegativeDot"/>.
    /// </summary>
    public static int[][] Compute(VectorMatrix baseVectors, VectorMatrix queries, int k, DistanceKind kind, int threads = 0, Func<int, bool>? allowed = null)
    {
        if (baseVectors.Dimension != queries.Dimension) throw new InvalidArgumentException("base and query dimensions differ");
        var result = new int[queries.Count][];
        var po = EngineParallel.Options(threads);
        Parallel.For(0, queries.Count, po, () => new TopK(k), (qi, _, heap) =>
        {
            heap.Reset(k);
            var q = queries.Row(qi);
            for (int i = 0; i < baseVectors.Count; i++)
            {
                if (allowed is not null && !allowed(i)) continue;
                heap.Push(i, Distances.Compute(kind, q, baseVectors.Row(i)));
            }
            var slots = new int[heap.Count];
            var dist = new float[heap.Count];
            heap.Drain(slots, dist);
            result[qi] = slots;
            return heap;
        }, _ => { });
        return result;
    }
}
