using VectorStore.Distance;
using VectorStore.Ranking;

namespace VectorStore.Drift;

/// <summary>The outcome of one two-sample test: the statistic, the threshold it is held against and its no-drift mean.</summary>
internal readonly record struct MmdResult(double Statistic, double Threshold, double NullMean);

/// <summary>
/// Maximum mean discrepancy with an RBF kernel at the median-heuristic bandwidth (Gretton et al. 2012), with a
/// permutation threshold: a distribution-free two-sample test that needs no training and no tuning beyond the
/// sample sizes, and whose false-alarm rate is what the caller sets. Stateless and thread-safe.
/// </summary>
internal static class MmdTest
{
    /// <summary>
    /// Tests whether <paramref name="x"/> and <paramref name="y"/> come from one distribution. The statistic is the
    /// biased MMD² = sᵀKs with s = +1/nx on x rows and −1/ny on y rows; the threshold is the smallest value that beats
    /// all but ⌊rate·(P + 1)⌋ − 1 of the P relabelled statistics, i.e. a permutation p-value ≤ rate.
    /// </summary>
    public static MmdResult Run(VectorMatrix x, VectorMatrix y, int permutations, double falseAlarmRate, Random rng)
    {
        int nx = x.Count, ny = y.Count, n = nx + ny, dim = x.Dimension;
        var kernel = new float[(long)n * n];
        var norms = new float[n];
        for (int i = 0; i < n; i++)
        {
            var a = Row(x, y, i);
            norms[i] = DotProduct.Compute(a, a);
        }
        // Squared distances first (upper triangle), through the dot-product kernel: ‖a−b‖² = ‖a‖² + ‖b‖² − 2a·b.
        var upper = new float[(long)n * (n - 1) / 2];
        long u = 0;
        for (int i = 0; i < n; i++)
        {
            var a = Row(x, y, i);
            for (int j = i + 1; j < n; j++)
            {
                float d2 = Math.Max(0f, norms[i] + norms[j] - 2 * DotProduct.Compute(a, Row(x, y, j)));
                kernel[(long)i * n + j] = d2;
                upper[u++] = d2;
            }
        }
        float median = upper.Length == 0 ? 1f : OrderStatistic.Select(upper, upper.Length / 2);
        float gamma = median > 0 ? 1f / median : 1f;
        for (int i = 0; i < n; i++)
        {
            kernel[(long)i * n + i] = 1f;
            for (int j = i + 1; j < n; j++)
            {
                float k = MathF.Exp(-gamma * kernel[(long)i * n + j]);
                kernel[(long)i * n + j] = k;
                kernel[(long)j * n + i] = k;
            }
        }

        var signs = new float[n];
        for (int i = 0; i < n; i++) signs[i] = i < nx ? 1f / nx : -1f / ny;
        double statistic = Quadratic(kernel, signs, n);
        var nulls = new double[permutations];
        double mean = 0;
        for (int p = 0; p < permutations; p++)
        {
            rng.Shuffle(signs);
            nulls[p] = Quadratic(kernel, signs, n);
            mean += nulls[p];
        }
        Array.Sort(nulls);
        int above = (int)Math.Floor(falseAlarmRate * (permutations + 1)) - 1;
        double threshold = Math.BitIncrement(nulls[permutations - 1 - Math.Clamp(above, 0, permutations - 1)]);
        return new MmdResult(statistic, threshold, mean / permutations);
    }

    private static ReadOnlySpan<float> Row(VectorMatrix x, VectorMatrix y, int i) => i < x.Count ? x.Row(i) : y.Row(i - x.Count);

    private static double Quadratic(float[] kernel, float[] s, int n)
    {
        double sum = 0;
        for (int i = 0; i < n; i++) sum += s[i] * (double)DotProduct.Compute(kernel.AsSpan(i * n, n), s);
        return sum;
    }
}
