namespace VectorStore.Drift;

/// <summary>The small statistics the per-batch sensors report. Stateless and thread-safe.</summary>
internal static class DriftStatistics
{
    /// <summary>
    /// Population stability index of <paramref name="window"/> (n vectors) against <paramref name="training"/>
    /// (total vectors), averaged over the <paramref name="groups"/> sub-quantizers of <paramref name="cells"/> entries
    /// each: Σ (p − q)·ln(p / q) with both sides smoothed by half a count per cell, so an entry unseen on one side is
    /// finite (Jeffreys' prior) rather than infinite.
    /// </summary>
    public static double Psi(ReadOnlySpan<int> window, long n, ReadOnlySpan<long> training, long total, int groups, int cells)
    {
        double pDen = n + 0.5 * cells, qDen = total + 0.5 * cells;
        double sum = 0;
        for (int g = 0; g < groups; g++)
        {
            int o = g * cells;
            for (int j = 0; j < cells; j++)
            {
                double p = (window[o + j] + 0.5) / pDen, q = (training[o + j] + 0.5) / qDen;
                sum += (p - q) * Math.Log(p / q);
            }
        }
        return sum / groups;
    }

    /// <summary>NLIST·Σ c² / n²: 1 when every list got the same share, NLIST when one list got everything.</summary>
    public static double Imbalance(ReadOnlySpan<int> counts)
    {
        double n = 0, sq = 0;
        foreach (int c in counts)
        {
            n += c;
            sq += (double)c * c;
        }
        return n == 0 ? 1.0 : counts.Length * sq / (n * n);
    }

    /// <summary>
    /// The <paramref name="q"/>-quantile of values binned in <paramref name="histogram"/> (bin i covers
    /// [i·width, (i+1)·width), the last bin everything above), linear within the bin.
    /// </summary>
    public static double Quantile(ReadOnlySpan<int> histogram, double width, double q)
    {
        long n = 0;
        foreach (int c in histogram) n += c;
        if (n == 0) return 0;
        double rank = q * n, seen = 0;
        for (int i = 0; i < histogram.Length; i++)
        {
            if (histogram[i] == 0) continue;
            if (seen + histogram[i] >= rank) return (i + (rank - seen) / histogram[i]) * width;
            seen += histogram[i];
        }
        return histogram.Length * width;
    }
}
