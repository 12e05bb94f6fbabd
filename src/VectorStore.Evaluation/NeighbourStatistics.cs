namespace VectorStore.Evaluation;

/// <summary>
/// How far a data set's true neighbours are: the mean cosine between each query and its 1st, 10th and 100th exact
/// neighbour. The shared text set's README quotes 0.81 / 0.62 / 0.48; synthetic sets print theirs beside it so a
/// scaling figure says whether its data is as hard as real embeddings (tight clusters make every code look bad,
/// loose ones make every code look good).
/// </summary>
public readonly record struct NeighbourStatistics(double First, double Tenth, double Hundredth)
{
    /// <summary>Measures the statistics from exact ground truth (ids nearest first, at least 100 per query).</summary>
    public static NeighbourStatistics Measure(VectorMatrix baseVectors, VectorMatrix queries, int[][] truth)
    {
        ArgumentNullException.ThrowIfNull(truth);
        if (truth.Length != queries.Count) throw new ArgumentException($"ground truth has {truth.Length} rows for {queries.Count} queries", nameof(truth));
        double s1 = 0, s10 = 0, s100 = 0;
        int n10 = 0, n100 = 0;
        for (int q = 0; q < queries.Count; q++)
        {
            var row = truth[q];
            if (row.Length == 0) throw new ArgumentException($"ground truth row {q} is empty", nameof(truth));
            s1 += Cosine(queries.Row(q), baseVectors.Row(row[0]));
            if (row.Length >= 10) { s10 += Cosine(queries.Row(q), baseVectors.Row(row[9])); n10++; }
            if (row.Length >= 100) { s100 += Cosine(queries.Row(q), baseVectors.Row(row[99])); n100++; }
        }
        return new NeighbourStatistics(s1 / queries.Count, n10 > 0 ? s10 / n10 : double.NaN, n100 > 0 ? s100 / n100 : double.NaN);
    }

    /// <inheritdoc/>
    public override string ToString() => FormattableString.Invariant($"neighbour cosine 1st {First:F3}, 10th {Tenth:F3}, 100th {Hundredth:F3}");

    private static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += a[i] * (double)b[i]; na += a[i] * (double)a[i]; nb += b[i] * (double)b[i]; }
        return na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
    }
}
