namespace VectorStore;

/// <summary>
/// How much one call of an <see cref="IVectorDatabaseClient"/> may carry: a server announces its frame and batch limits,
/// an in-process database has none (<see cref="Unlimited"/>). Callers split their work with <see cref="UpsertBatchSize"/>
/// and <see cref="GetBatchSize"/> rather than doing wire arithmetic themselves. Immutable, so thread-safe.
/// </summary>
public sealed record TransferLimits
{
    /// <summary>Bytes of every request reserved for headers and the collection name.</summary>
    public const int RequestHeaderBytes = 4096;

    /// <summary>Per-vector framing of an upsert beyond the 4·dimension bytes of values (id, lengths), an upper bound.</summary>
    public const int UpsertItemBytes = 12;

    /// <summary>Per-record allowance of a get response beyond the values: presence flag, payload length and a short payload.</summary>
    public const int GetItemBytes = 16;

    /// <summary>Most vectors, queries or ids in one call. Default unlimited.</summary>
    public int MaxBatch { get; init; } = int.MaxValue;

    /// <summary>Largest request, in bytes. Default unlimited.</summary>
    public long MaxRequestBytes { get; init; } = long.MaxValue;

    /// <summary>Largest response, in bytes. Default unlimited.</summary>
    public long MaxResponseBytes { get; init; } = long.MaxValue;

    /// <summary>No limits: an in-process database takes any batch in one call.</summary>
    public static TransferLimits Unlimited { get; } = new();

    /// <summary>
    /// Most vectors of <paramref name="dimension"/> values one upsert may carry when every payload is at most
    /// <paramref name="maxPayloadBytes"/> bytes (null: the batch has no payloads). At least 1.
    /// </summary>
    public int UpsertBatchSize(int dimension, int? maxPayloadBytes = null)
    {
        long perVector = 4L * dimension + UpsertItemBytes + (maxPayloadBytes is int p ? 4 + p : 0);
        return (int)Math.Max(1, Math.Min(MaxBatch, (MaxRequestBytes - RequestHeaderBytes) / perVector));
    }

    /// <summary>Most records of <paramref name="dimension"/> values (payloads aside) one get may return. At least 1.</summary>
    public int GetBatchSize(int dimension) =>
        (int)Math.Max(1, Math.Min(MaxBatch, MaxResponseBytes / (4L * dimension + GetItemBytes)));
}
