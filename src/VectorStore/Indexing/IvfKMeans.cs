using VectorStore.Distance;
using VectorStore.Quantization;

namespace VectorStore.Indexing;

/// <summary>
/// Lloyd's k-means for the IVF coarse quantizer, plus the nearest-centroid search the index uses for assignment.
/// Seeded (same data and seed → same centroids), parallel over points, with empty clusters repaired by splitting the
/// largest one. Stateless and thread-safe.
/// </summary>
/// <remarks>
/// Interim: the PQ work brings the project's shared k-means (<c>Clustering/</c>); once it is merged this class keeps
/// only <see cref="Nearest"/> and training delegates to it, so the codebase has one k-means.
/// </remarks>
internal static class IvfKMeans
{
    /// <summary>Trains <paramref name="k"/> centroids (row-major k × dim) on <paramref name="data"/>.</summary>
    public static float[] Train(VectorMatrix data, int k, int iterations, TrainingContext context, string stage = "ivf")
    {
        int n = data.Count, dim = data.Dimension;
        if (n == 0) throw new InvalidArgumentException("k-means needs at least one training vector");
        if (k > n) throw new InvalidArgumentException($"k-means: {k} centroids need at least {k} training vectors, got {n}");
        if (n < 39 * k) context.Warn?.Invoke($"{stage}: {n} training vectors for {k} centroids (fewer than 39 per centroid); centroids may be poor");
        var rng = new Random(context.Seed);
        var centroids = new float[k * dim];
        // Distinct random rows as the initial centroids: cheap and, with empty-cluster repair, as good as k-means++ at
        // the list counts IVF uses.
        var picked = new HashSet<int>();
        for (int c = 0; c < k; c++)
        {
            int r;
            do r = rng.Next(n); while (!picked.Add(r));
            data.Row(r).CopyTo(centroids.AsSpan(c * dim, dim));
        }
        var assign = new int[n];
        var po = context.ParallelOptions;
        for (int it = 0; it < iterations; it++)
        {
            var norms = Norms(centroids, dim);
            Parallel.For(0, n, po, i => assign[i] = Nearest(data.Row(i), centroids, norms, dim, out _));
            var sums = new double[k * dim];
            var counts = new int[k];
            for (int i = 0; i < n; i++)
            {
                int c = assign[i];
                counts[c]++;
                var row = data.Row(i);
                var s = sums.AsSpan(c * dim, dim);
                for (int d = 0; d < dim; d++) s[d] += row[d];
            }
            for (int c = 0; c < k; c++)
            {
                if (counts[c] == 0) continue;
                double inv = 1.0 / counts[c];
                for (int d = 0; d < dim; d++) centroids[c * dim + d] = (float)(sums[c * dim + d] * inv);
            }
            RepairEmpty(centroids, counts, dim, rng);
            context.Progress?.Report((stage, (it + 1) / (double)iterations));
        }
        return centroids;
    }

    /// <summary>
    /// Gives every empty cluster half of the largest one: a copy of its centroid nudged by ±ε, as FAISS does, so the
    /// next assignment step splits the big cluster between the two.
    /// </summary>
    private static void RepairEmpty(float[] centroids, int[] counts, int dim, Random rng)
    {
        for (int c = 0; c < counts.Length; c++)
        {
            if (counts[c] != 0) continue;
            int big = 0;
            for (int j = 1; j < counts.Length; j++) if (counts[j] > counts[big]) big = j;
            if (counts[big] < 2) return;
            for (int d = 0; d < dim; d++)
            {
                float v = centroids[big * dim + d];
                float eps = (rng.Next(2) == 0 ? 1 : -1) * (1f / 1024) * (MathF.Abs(v) + 1e-6f);
                centroids[c * dim + d] = v + eps;
                centroids[big * dim + d] = v - eps;
            }
            counts[c] = counts[big] / 2;
            counts[big] -= counts[c];
        }
    }

    /// <summary>‖c‖² of every centroid.</summary>
    public static float[] Norms(float[] centroids, int dim)
    {
        var norms = new float[centroids.Length / dim];
        for (int c = 0; c < norms.Length; c++)
        {
            var row = centroids.AsSpan(c * dim, dim);
            norms[c] = DotProduct.Compute(row, row);
        }
        return norms;
    }

    /// <summary>
    /// The centroid nearest (squared L2) to <paramref name="x"/>, using ‖x−c‖² = ‖x‖² − 2x·c + ‖c‖² with
    /// precomputed ‖c‖², so one dot product per centroid. <paramref name="distance"/> gets the squared distance.
    /// </summary>
    public static int Nearest(ReadOnlySpan<float> x, float[] centroids, float[] norms, int dim, out float distance)
    {
        int best = 0;
        float bestD = float.PositiveInfinity;
        var all = centroids.AsSpan();
        for (int c = 0; c < norms.Length; c++)
        {
            float d = norms[c] - 2 * DotProduct.Compute(x, all.Slice(c * dim, dim));
            if (d < bestD)
            {
                bestD = d;
                best = c;
            }
        }
        distance = bestD + DotProduct.Compute(x, x);
        return best;
    }
}
