namespace VectorStore.Evaluation;

/// <summary>
/// Seeded synthetic embeddings that resemble real ones: a mixture of clusters, each living in a low-rank subspace
/// with a decaying spectrum, with Zipf-like cluster weights and a little isotropic noise. Used by tests when
/// <c>../shared/data</c> is absent and for scaling benchmarks (1M+ vectors).
/// </summary>
public static class SyntheticData
{
    /// <summary>Generates <paramref name="count"/> vectors of <paramref name="dimension"/> values.</summary>
    public static VectorMatrix Clustered(int count, int dimension, int seed = 1, int clusters = 64, int rank = 16, bool normalize = false)
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
            for (int d = 0; d < dimension; d++) centers[c][d] = (float)(Gaussian(rng) * 1.0);
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
                float v = centers[c][d] + (float)(Gaussian(rng) * 0.05);
                for (int r = 0; r < rank; r++) v += coeff[r] * b[r * dimension + d];
                row[d] = v;
            }
            if (normalize) Distance.Distances.Normalize(row);
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
