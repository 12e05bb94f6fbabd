using VectorStore.Clustering;
using VectorStore.Evaluation;
using VectorStore.Indexing;
using VectorStore.Indexing.Ivf;
using VectorStore.Quantization;
using VectorStore.Ranking;

namespace VectorStore.Tests.Indexing.Ivf;

/// <summary>Builds IVF indexes on synthetic data and measures recall against brute force.</summary>
internal static class IvfTestSupport
{
    public static IvfIndex Build(VectorMatrix data, string index, string compression, DistanceKind kind, int seed = 42)
    {
        var spec = IndexSpec.Parse(index);
        var ivf = (IvfIndex)IndexRegistry.Get(spec).Create(spec, CompressionSpec.Parse(compression), data.Dimension, kind, data,
            new TrainingContext { Seed = seed });
        var slots = Enumerable.Range(0, data.Count).ToArray();
        ivf.AddBatch(slots, data, 0);
        return ivf;
    }

    /// <summary>Top-k slots per query from the index.</summary>
    public static int[][] Search(VectorIndex index, VectorMatrix queries, int k, int nprobe, SlotFilter? filter = null)
    {
        var heap = new TopK(k);
        var result = new int[queries.Count][];
        for (int q = 0; q < queries.Count; q++)
        {
            heap.Reset(k);
            index.Search(queries.Row(q), new IndexSearchParameters { NProbe = nprobe }, filter, heap);
            var slots = new int[heap.Count];
            heap.Drain(slots, new float[slots.Length]);
            result[q] = slots;
        }
        return result;
    }

    public static double Recall(int[][] found, int[][] truth, int k) =>
        VectorStore.Evaluation.Recall.AtK(found.Select(r => r.Select(x => (long)x).ToArray()).ToArray(), truth, k);

    public static VectorMatrix Normalized(VectorMatrix m)
    {
        var copy = m.Slice(0, m.Count);
        for (int i = 0; i < copy.Count; i++) VectorStore.Distance.Distances.Normalize(copy[i]);
        return copy;
    }

    public static (VectorMatrix Base, VectorMatrix Queries) Synthetic(int count, int queries, int dim, bool normalize, int seed = 3)
    {
        var all = SyntheticData.Clustered(count + queries, dim, seed, clusters: 48, normalize: normalize);
        return (all.Slice(0, count), all.Slice(count, queries));
    }
}
