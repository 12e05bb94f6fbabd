using VectorStore.Distance;
using VectorStore.Quantization;

namespace VectorStore.Clustering;

/// <summary>
/// Lloyd's k-means for squared L2 with k-means++ seeding on a bounded sample, a parallel SIMD assignment step
/// (<see cref="CentroidSet"/>), empty-cluster repair by splitting the largest cluster, and the training-sample size
/// rules of <see cref="KMeansOptions"/>. Deterministic: the same data, k, options and seed give the same centroids
/// on any number of threads. Stateless and thread-safe.
/// </summary>
public static class KMeans
{
    /// <summary>
    /// Trains <paramref name="k"/> centroids on the rows of <paramref name="data"/>. Throws
    /// <see cref="InvalidArgumentException"/> when there are fewer rows than centroids; warns through
    /// <see cref="TrainingContext.Warn"/> below <see cref="KMeansOptions.MinPointsPerCentroid"/> points per centroid;
    /// reports each iteration through <see cref="TrainingContext.Progress"/>.
    /// </summary>
    public static KMeansResult Train(VectorMatrix data, int k, TrainingContext? context = null, KMeansOptions? options = null)
    {
        context ??= TrainingContext.Default;
        options ??= new KMeansOptions();
        if (k <= 0) throw new InvalidArgumentException($"k-means: k must be positive, got {k}");
        if (options.Iterations < 0) throw new InvalidArgumentException("k-means: iterations must not be negative");
        int n = data.Count, dim = data.Dimension;
        if (n < k)
            throw new InvalidArgumentException($"{options.Stage}: {n} training points for {k} centroids; need at least one point per centroid");
        if (options.MinPointsPerCentroid > 0 && n < (long)options.MinPointsPerCentroid * k)
            context.Warn?.Invoke($"{options.Stage}: only {n} training points for {k} centroids ({(double)n / k:F1} per centroid); " +
                                 $"at least {options.MinPointsPerCentroid} per centroid are recommended, centroids may over-fit");
        var rng = new Random(context.Seed);
        if (options.MaxPointsPerCentroid > 0 && n > (long)options.MaxPointsPerCentroid * k)
        {
            data = data.Sample(options.MaxPointsPerCentroid * k, rng.Next());
            n = data.Count;
        }

        VectorMatrix centroids;
        if (options.InitialCentroids is { } init)
        {
            if (init.Count != k || init.Dimension != dim)
                throw new InvalidArgumentException($"{options.Stage}: initial centroids are {init.Count}×{init.Dimension}, expected {k}×{dim}");
            centroids = init.Slice(0, k);
        }
        else
        {
            int seedingSize = options.SeedingSampleSize ?? Math.Max(4096, 20 * k);
            var seedingData = n > seedingSize ? data.Sample(seedingSize, rng.Next()) : data;
            centroids = PlusPlus(seedingData, k, rng, context.ParallelOptions);
        }

        var assign = new int[n];
        var previous = new int[n];
        var dist = new float[n];
        var counts = new int[k];
        var sums = new double[(long)k * dim];
        int repaired = 0, iter = 0;
        double inertia = 0;
        for (; iter < options.Iterations; iter++)
        {
            new CentroidSet(centroids).AssignBatch(data, assign, dist, context.ParallelOptions);
            inertia = 0;
            for (int i = 0; i < n; i++) inertia += dist[i];
            bool changed = iter == 0 || !assign.AsSpan().SequenceEqual(previous);
            context.Progress?.Report((options.Stage, (iter + 1.0) / options.Iterations));
            if (!changed) break;
            assign.CopyTo(previous, 0);
            // The update sums in point order in double precision, so it is exact enough and independent of threads.
            Array.Clear(counts);
            Array.Clear(sums);
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
                var cr = centroids[c];
                double inv = 1.0 / counts[c];
                for (int d = 0; d < dim; d++) cr[d] = (float)(sums[c * dim + d] * inv);
            }
            repaired += RepairEmpty(centroids, counts, rng);
        }
        if (options.Iterations == 0)
        {
            new CentroidSet(centroids).AssignBatch(data, assign, dist, context.ParallelOptions);
            foreach (var v in dist) inertia += v;
        }
        return new KMeansResult(centroids, inertia, iter, repaired, n);
    }

    /// <summary>
    /// Re-seeds every empty cluster by splitting the currently largest one: both halves get the large centroid
    /// nudged in opposite directions, and the count is shared, so the next assignment step divides its points.
    /// </summary>
    private static int RepairEmpty(VectorMatrix centroids, int[] counts, Random rng)
    {
        int k = counts.Length, dim = centroids.Dimension, fixes = 0;
        for (int c = 0; c < k; c++)
        {
            if (counts[c] != 0) continue;
            int big = 0;
            for (int j = 1; j < k; j++) if (counts[j] > counts[big]) big = j;
            if (counts[big] <= 1) break;
            var src = centroids[big];
            var dst = centroids[c];
            const float Eps = 1f / 1024;
            for (int d = 0; d < dim; d++)
            {
                // Relative nudge (plus a floor for zero coordinates) so the split is scale-free.
                float delta = (rng.Next(2) == 0 ? Eps : -Eps) * (MathF.Abs(src[d]) + 1e-6f);
                dst[d] = src[d] + delta;
                src[d] -= delta;
            }
            counts[c] = counts[big] / 2;
            counts[big] -= counts[c];
            fixes++;
        }
        return fixes;
    }

    /// <summary>k-means++: each next centroid is a point drawn with probability proportional to its squared distance to the nearest chosen one.</summary>
    private static VectorMatrix PlusPlus(VectorMatrix data, int k, Random rng, ParallelOptions parallel)
    {
        int n = data.Count, dim = data.Dimension;
        var centroids = new VectorMatrix(k, dim);
        var minDist = new float[n];
        int first = rng.Next(n);
        data.Row(first).CopyTo(centroids[0]);
        UpdateMin(data, centroids.Row(0), minDist, true, parallel);
        for (int c = 1; c < k; c++)
        {
            double total = 0;
            for (int i = 0; i < n; i++) total += minDist[i];
            int pick;
            if (total <= 0)
            {
                // Every point coincides with a chosen centroid: duplicates are unavoidable, repair handles them.
                pick = rng.Next(n);
            }
            else
            {
                double u = rng.NextDouble() * total;
                pick = n - 1;
                for (int i = 0; i < n; i++)
                {
                    u -= minDist[i];
                    if (u < 0) { pick = i; break; }
                }
            }
            data.Row(pick).CopyTo(centroids[c]);
            UpdateMin(data, centroids.Row(c), minDist, false, parallel);
        }
        return centroids;
    }

    private static void UpdateMin(VectorMatrix data, ReadOnlySpan<float> centroid, float[] minDist, bool first, ParallelOptions parallel)
    {
        var c = centroid.ToArray();
        const int Chunk = 1024;
        int chunks = (data.Count + Chunk - 1) / Chunk;
        Parallel.For(0, chunks, parallel, ch =>
        {
            int end = Math.Min(data.Count, (ch + 1) * Chunk);
            for (int i = ch * Chunk; i < end; i++)
            {
                float d = SquaredL2.Compute(data.Row(i), c);
                if (first || d < minDist[i]) minDist[i] = d;
            }
        });
    }
}
