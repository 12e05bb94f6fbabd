namespace VectorStore.Bench;

/// <summary>Summary statistics the bench commands print.</summary>
internal static class BenchStats
{
    /// <summary>The middle value (the upper of the two middle ones for an even count); NaN when there is none. Leaves <paramref name="values"/> as they are.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }
}
