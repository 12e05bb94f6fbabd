namespace VectorStore.Collections;

/// <summary>
/// The check every query vector gets before it is searched, shared by <see cref="Collection"/> and layers built on the
/// public API (the cluster coordinator), so both refuse the same queries with the same messages. Stateless and
/// thread-safe.
/// </summary>
public static class QueryValidation
{
    /// <summary>
    /// Throws <see cref="InvalidVectorException"/> when <paramref name="query"/> holds a non-finite value or, for
    /// <see cref="Metric.Cosine"/>, is a zero vector; names query <paramref name="row"/> of a batch when given (≥ 0).
    /// The caller checks the dimension.
    /// </summary>
    public static void Check(ReadOnlySpan<float> query, Metric metric, int row = -1)
    {
        bool zero = true;
        for (int d = 0; d < query.Length; d++)
        {
            float v = query[d];
            if (!float.IsFinite(v)) throw new InvalidVectorException($"{Name(row)} has a non-finite value at dimension {d}");
            zero &= v == 0;
        }
        // Cosine compares directions, and a zero vector has none: every stored vector would score 0 against it.
        if (zero && metric == Metric.Cosine) throw new InvalidVectorException($"{Name(row)} is a zero vector, for which cosine similarity is undefined");
    }

    private static string Name(int row) => row >= 0 ? $"query {row}" : "query";
}
