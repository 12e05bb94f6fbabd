namespace VectorStore.Storage;

/// <summary>
/// Where a collection records its mutations before applying them (the write-ahead log of a database directory).
/// Append methods run under the collection's write lock, in mutation order, and return a ticket;
/// <see cref="WaitDurable"/> runs outside the lock so concurrent writers share one commit (group commit).
/// </summary>
internal interface ICollectionJournal
{
    /// <summary>Throws when the journal refuses writes (a read-only database), before anything changes.</summary>
    void CheckWritable(string operation) { }

    long AppendUpserts(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads, IReadOnlyList<byte[]?>? fields);

    long AppendDelete(ulong id);

    /// <summary>Records an explicit index build (training before the threshold) so recovery repeats it.</summary>
    long AppendBuildIndex();

    /// <summary>Records a compression-generation change.</summary>
    long AppendGeneration(GenerationRecord record);

    /// <summary>
    /// Writes a checkpoint now (a built generation's index reaches a snapshot, so recovery need not rebuild it);
    /// false when there is nothing durable to write to.
    /// </summary>
    bool Checkpoint() => false;

    /// <summary>Returns once everything up to <paramref name="ticket"/> survives a process crash.</summary>
    void WaitDurable(long ticket);

    /// <summary>
    /// <see cref="WaitDurable"/> without holding a thread while the commit is in flight; cancelling stops the wait,
    /// not the commit.
    /// </summary>
    ValueTask WaitDurableAsync(long ticket, CancellationToken cancellationToken);

    /// <summary>Bytes of the collection's files (0 in memory).</summary>
    long DiskBytes();
}

/// <summary>The journal of an in-memory collection: records nothing.</summary>
internal sealed class NullJournal : ICollectionJournal
{
    public static readonly NullJournal Instance = new();

    public long AppendUpserts(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads, IReadOnlyList<byte[]?>? fields) => 0;

    public long AppendDelete(ulong id) => 0;

    public long AppendBuildIndex() => 0;

    public long AppendGeneration(GenerationRecord record) => 0;

    public void WaitDurable(long ticket) { }

    public ValueTask WaitDurableAsync(long ticket, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public long DiskBytes() => 0;
}
