using VectorStore.Clustering;
using VectorStore.Distance;
using VectorStore.Evaluation;
using VectorStore.Indexing;
using VectorStore.Indexing.Hnsw;
using VectorStore.Quantization;
using VectorStore.Ranking;

namespace VectorStore.Tests.Indexing.Hnsw;

/// <summary>Builds HNSW indexes and measures recall the way the collection uses them (codes walk, exact re-rank).</summary>
internal static class HnswTestKit
{
    public static HnswIndex Create(VectorMatrix sample, string compression = "sq8", DistanceKind kind = DistanceKind.L2, string spec = "hnsw:16,100", int seed = 42) =>
        (HnswIndex)new HnswIndexFactory().Create(IndexSpec.Parse(spec), CompressionSpec.Parse(compression), sample.Dimension, kind, sample,
            new TrainingContext { Seed = seed });

    public static HnswIndex Build(VectorMatrix data, string compression = "sq8", DistanceKind kind = DistanceKind.L2, string spec = "hnsw:16,100", int threads = 2, int seed = 42)
    {
        var index = Create(data, compression, kind, spec, seed);
        index.AddBatch(Enumerable.Range(0, data.Count).ToArray(), data, threads);
        return index;
    }

    /// <summary>Top-k slots: the index's <paramref name="rerank"/> best by code distance, re-scored exactly.</summary>
    public static long[] Search(VectorIndex index, VectorMatrix data, ReadOnlySpan<float> query, int k = 10, int ef = 64, int rerank = 40,
        SlotFilter? filter = null, Func<int, ReadOnlyMemory<float>>? vectorOf = null)
    {
        var heap = new TopK(Math.Max(k, rerank));
        index.Search(query, new IndexSearchParameters { Ef = ef }, filter, heap);
        var slots = new int[heap.Count];
        var dists = new float[heap.Count];
        int n = heap.Drain(slots, dists);
        var exact = new TopK(k);
        for (int i = 0; i < n; i++)
        {
            var v = vectorOf is null ? data.Row(slots[i]) : vectorOf(slots[i]).Span;
            exact.Push(slots[i], Distances.Compute(index.DistanceKind, query, v));
        }
        var outSlots = new int[exact.Count];
        int m = exact.Drain(outSlots, new float[exact.Count]);
        return outSlots.Take(m).Select(s => (long)s).ToArray();
    }

    public static double Recall(VectorIndex index, VectorMatrix data, VectorMatrix queries, int[][] truth, int ef = 64, int rerank = 40)
    {
        var found = new List<long[]>();
        for (int q = 0; q < queries.Count; q++) found.Add(Search(index, data, queries.Row(q), 10, ef, rerank));
        return VectorStore.Evaluation.Recall.AtK(found, truth, 10);
    }

    public static (VectorMatrix Base, VectorMatrix Queries) Clustered(int n, int nq, int dim, int seed = 1)
    {
        var all = SyntheticData.Clustered(n + nq, dim, seed);
        return (all.Slice(0, n), all.Slice(n, nq));
    }
}
