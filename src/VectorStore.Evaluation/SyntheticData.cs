namespace VectorStore.Evaluation;

/// <summary>
/// Seeded synthetic embeddings that resemble real ones: a mixture of clusters, each living in a low-rank subspace
/// with a decaying spectrum, with Zipf-like cluster weights and a little isotropic noise. Used by tests when
/// <c>../shared/data</c> is absent and for scaling benchmarks (1M+ vectors).
/// </summary>
public static class SyntheticData
{
    /// <summary>Generates <paramref name="count"/> vectors of <paramref name="dimension"/> values.</summary>
    /// <remarks><c>centerScale</c> is the standard deviation of each coordinate of a cluster centre: with the default the centre
    /// dominates its members (neighbour cosine near 0.99); <see cref="TextLike"/> lowers it to the spread of real
    /// embeddings. <c>noise</c> is the standard deviation of the isotropic noise per coordinate.</remarks>
    public static VectorMatrix Clustered(int count, int dimension, int seed = 1, int clusters = 64, int rank = 16, bool normalize = false, double centerScale = 1.0, double noise = 0.05)
    {
        var rng = new Random(seed);
        rank = Math.Min(rank, dimension);
        var centers = new float[clusters][];
        var bases = new float[clusters][];
        var weights = new double[clusters];
        double total = 0;
        for (int c = 0; c < clusters; c++)
        {
            centers[c] = new float[dimension];
            for (int d = 0; d < dimension; d++) centers[c][d] = (float)(Gaussian(rng) * centerScale);
            bases[c] = new float[rank * dimension];
            for (int i = 0; i < bases[c].Length; i++) bases[c][i] = (float)(Gaussian(rng) / Math.Sqrt(dimension));
            weights[c] = 1.0 / Math.Pow(c + 1, 0.7);
            total += weights[c];
        }
        var m = new VectorMatrix(count, dimension);
        var coeff = new float[rank];
        for (int i = 0; i < count; i++)
        {
            double u = rng.NextDouble() * total;
            int c = 0;
            while (c < clusters - 1 && (u -= weights[c]) > 0) c++;
            for (int r = 0; r < rank; r++) coeff[r] = (float)(Gaussian(rng) * 2.0 / (1 + r * 0.5));
            var row = m[i];
            var b = bases[c];
            for (int d = 0; d < dimension; d++)
            {
                float v = centers[c][d] + (float)(Gaussian(rng) * noise);
                for (int r = 0; r < rank; r++) v += coeff[r] * b[r * dimension + d];
                row[d] = v;
            }
            if (normalize) Distance.Distances.Normalize(row);
        }
        return m;
    }

    /// <summary>
    /// Clustered data as hard as real sentence embeddings: topics (Zipf-weighted) split into sub-topics, each vector a
    /// sub-topic centre plus a decaying low-rank spread within its topic plus isotropic noise, normalized. The default
    /// shape's neighbour statistics (<see cref="NeighbourStatistics"/>) at 50,000 × 384 are close to the shared text
    /// set's; <c>bench … synthetic-stats --text-like 1</c> prints both.
    /// </summary>
    public static VectorMatrix TextLike(int count, int dimension, int seed = 1, TextLikeShape? shape = null)
    {
        var p = shape ?? TextLikeShape.Default;
        var rng = new Random(seed);
        int rank = Math.Min(p.Rank, dimension);
        var subCenters = new float[p.Topics * p.SubTopics][];
        var bases = new float[p.Topics][];
        var weights = new double[p.Topics];
        double total = 0;
        for (int t = 0; t < p.Topics; t++)
        {
            var center = new float[dimension];
            for (int d = 0; d < dimension; d++) center[d] = (float)(Gaussian(rng) * p.TopicScale);
            for (int s = 0; s < p.SubTopics; s++)
            {
                var sub = subCenters[t * p.SubTopics + s] = new float[dimension];
                for (int d = 0; d < dimension; d++) sub[d] = center[d] + (float)(Gaussian(rng) * p.SubTopicScale);
            }
            bases[t] = new float[rank * dimension];
            for (int i = 0; i < bases[t].Length; i++) bases[t][i] = (float)(Gaussian(rng) / Math.Sqrt(dimension));
            weights[t] = 1.0 / Math.Pow(t + 1, 0.7);
            total += weights[t];
        }
        var m = new VectorMatrix(count, dimension);
        var coeff = new float[rank];
        for (int i = 0; i < count; i++)
        {
            double u = rng.NextDouble() * total;
            int t = 0;
            while (t < p.Topics - 1 && (u -= weights[t]) > 0) t++;
            var sub = subCenters[t * p.SubTopics + rng.Next(p.SubTopics)];
            for (int r = 0; r < rank; r++) coeff[r] = (float)(Gaussian(rng) * p.Spread / (1 + r * 0.5));
            var row = m[i];
            var b = bases[t];
            for (int d = 0; d < dimension; d++)
            {
                float v = sub[d] + (float)(Gaussian(rng) * p.Noise);
                for (int r = 0; r < rank; r++) v += coeff[r] * b[r * dimension + d];
                row[d] = v;
            }
            Distance.Distances.Normalize(row);
        }
        return m;
    }

    private static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
