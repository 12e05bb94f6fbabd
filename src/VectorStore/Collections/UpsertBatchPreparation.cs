using VectorStore.Distance;

namespace VectorStore.Collections;

/// <summary>
/// The checks and normalization every upsert batch gets before anything is written, shared by
/// <see cref="Collection.UpsertBatch(IReadOnlyList{ulong}, VectorMatrix, IReadOnlyList{byte[]})"/> and layers built on the public API (the cluster coordinator), so both refuse
/// the same input with the same messages. Stateless and thread-safe.
/// </summary>
public static class UpsertBatchPreparation
{
    /// <summary>
    /// Checks that ids, vectors and payloads line up, that every value is finite, that no id repeats and, for cosine,
    /// that no vector is zero, and returns a copy of <paramref name="vectors"/> normalized for cosine (the input is not
    /// modified). The caller checks the dimension, with its own wording. Throws <see cref="InvalidArgumentException"/> / <see cref="InvalidVectorException"/>.
    /// </summary>
    public static VectorMatrix Prepare(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads, Metric metric) =>
        Prepare(ids, vectors, payloads, metric, null);

    /// <summary>
    /// <see cref="Prepare(IReadOnlyList{ulong}, VectorMatrix, IReadOnlyList{byte[]}, Metric)"/> into
    /// <paramref name="buffer"/> when it has exactly the batch's length (a collection reuses one per batch size: a
    /// fresh array of a megabyte or more costs its page faults on every batch), else into a new array.
    /// </summary>
    internal static VectorMatrix Prepare(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads, Metric metric, float[]? buffer)
    {
        if (ids.Count != vectors.Count) throw new InvalidArgumentException($"{ids.Count} ids for {vectors.Count} vectors");
        if (payloads is not null && payloads.Count != ids.Count) throw new InvalidArgumentException($"{payloads.Count} payloads for {ids.Count} vectors");
        var data = buffer is not null && buffer.Length == vectors.Data.Length ? buffer : GC.AllocateUninitializedArray<float>(vectors.Data.Length);
        vectors.Data.CopyTo(data, 0);
        var prepared = new VectorMatrix(data, vectors.Dimension);
        var seen = new HashSet<ulong>(prepared.Count);
        for (int i = 0; i < prepared.Count; i++)
        {
            var row = prepared[i];
            // A sum of squares is finite only if every value is: one vectorized pass instead of a check per value,
            // and the norm cosine needs. Only a non-finite sum (or an overflow of finite values) looks closer.
            float squares = DotProduct.Compute(row, row);
            if (!float.IsFinite(squares))
            {
                for (int d = 0; d < row.Length; d++)
                {
                    if (!float.IsFinite(row[d]))
                        throw new InvalidVectorException($"vector for id {ids[i]} (batch row {i}) has a non-finite value at dimension {d}");
                }
            }
            if (!seen.Add(ids[i])) throw new InvalidArgumentException($"id {ids[i]} appears twice in one batch");
            // Cosine compares directions, and a zero vector has none: stored, it would score 0 against every query.
            if (metric == Metric.Cosine && !Distances.Normalize(row, squares))
                throw new InvalidVectorException($"vector for id {ids[i]} (batch row {i}) is a zero vector, for which cosine similarity is undefined");
        }
        return prepared;
    }
}
