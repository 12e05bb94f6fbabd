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
    /// Checks that ids, vectors and payloads line up, that every value is finite and that no id repeats, and returns a
    /// copy of <paramref name="vectors"/> normalized for cosine (the input is not modified). The caller checks the
    /// dimension, with its own wording. Throws <see cref="InvalidArgumentException"/> / <see cref="InvalidVectorException"/>.
    /// </summary>
    public static VectorMatrix Prepare(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads, Metric metric)
    {
        if (ids.Count != vectors.Count) throw new InvalidArgumentException($"{ids.Count} ids for {vectors.Count} vectors");
        if (payloads is not null && payloads.Count != ids.Count) throw new InvalidArgumentException($"{payloads.Count} payloads for {ids.Count} vectors");
        var prepared = new VectorMatrix((float[])vectors.Data.Clone(), vectors.Dimension);
        var seen = new HashSet<ulong>();
        for (int i = 0; i < prepared.Count; i++)
        {
            var row = prepared[i];
            for (int d = 0; d < row.Length; d++)
            {
                if (!float.IsFinite(row[d]))
                    throw new InvalidVectorException($"vector for id {ids[i]} (batch row {i}) has a non-finite value at dimension {d}");
            }
            if (!seen.Add(ids[i])) throw new InvalidArgumentException($"id {ids[i]} appears twice in one batch");
            if (metric == Metric.Cosine) Distances.Normalize(row);
        }
        return prepared;
    }
}
