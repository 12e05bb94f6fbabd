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

    /// <summary>
    /// Records an upsert batch; returns the ticket of its last log entry. A large batch takes several entries:
    /// <paramref name="rowTickets"/>, when given, receives each row's entry's ticket (a failure can lose the later
    /// entries of a batch whose earlier ones are durable already).
    /// </summary>
    long AppendUpserts(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads, IReadOnlyList<byte[]?>? fields, long[]? rowTickets = null);

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

    /// <summary>
    /// Starts making everything up to <paramref name="ticket"/> durable without waiting, so the log's write and fsyncs
    /// run while the caller applies the entries in memory; the caller's <see cref="WaitDurable"/> then joins that
    /// commit. Never throws: a failure is reported by the wait. Called under the collection's write lock.
    /// </summary>
    void BeginDurable(long ticket) { }

    /// <summary>Returns once everything up to <paramref name="ticket"/> survives a process crash.</summary>
    void WaitDurable(long ticket);

    /// <summary>
    /// <see cref="WaitDurable"/> without holding a thread while the commit is in flight; cancelling stops the wait,
    /// not the commit.
    /// </summary>
    ValueTask WaitDurableAsync(long ticket, CancellationToken cancellationToken);

    /// <summary>Bytes of the collection's files (0 in memory).</summary>
    long DiskBytes();

    /// <summary>Whether a write of the journal can fail after it was appended (a log on disk), so the collection keeps what undoes it.</summary>
    bool CanFail => false;

    /// <summary>Whether the journal's last commit failed; it refuses appends until <see cref="ResetAfterFailure"/>.</summary>
    bool Failed => false;

    /// <summary>The ticket up to which appended writes are durable: writes at or below it can no longer fail.</summary>
    long DurableTicket => long.MaxValue;

    /// <summary>
    /// Whether the write that got <paramref name="ticket"/> is durable now, in the log epoch it was appended in: a
    /// commit can fail after FASTER's metadata for it reached the disk, and the reset after the failure keeps it.
    /// </summary>
    bool IsDurable(long ticket) => true;

    /// <summary>
    /// Reopens a failed journal at its last durable point; returns the ticket up to which writes survived (every
    /// write past it is lost and must be undone in memory). The caller holds the collection's write lock.
    /// </summary>
    long ResetAfterFailure() => DurableTicket;
}

/// <summary>The journal of an in-memory collection: records nothing.</summary>
internal sealed class NullJournal : ICollectionJournal
{
    public static readonly NullJournal Instance = new();

    public long AppendUpserts(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads, IReadOnlyList<byte[]?>? fields, long[]? rowTickets = null) => 0;

    public long AppendDelete(ulong id) => 0;

    public long AppendBuildIndex() => 0;

    public long AppendGeneration(GenerationRecord record) => 0;

    public void WaitDurable(long ticket) { }

    public ValueTask WaitDurableAsync(long ticket, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public long DiskBytes() => 0;
}
