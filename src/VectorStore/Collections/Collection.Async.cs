using VectorStore.Telemetry;

namespace VectorStore.Collections;

/// <summary>
/// The asynchronous API. A write's in-memory part (validation, lock, log append, index update) runs on the calling
/// thread, as in the synchronous API; the wait for durability is a task: concurrent writers share FASTER's group
/// commit and hold no thread while it is in flight. Searches and reads are CPU work on resident or memory-mapped data
/// and run on the calling thread, returning completed tasks.
/// </summary>
/// <remarks>
/// Cancellation: a token cancelled before the work begins cancels the call with nothing changed. A write whose token
/// is cancelled while it waits for durability has already been applied and logged: the task ends cancelled, the
/// write stays visible and becomes durable with the next commit (it is not rolled back). Thread-safety: as the
/// synchronous members, every method may be called concurrently.
/// </remarks>
public sealed partial class Collection
{
    /// <summary>Inserts or replaces one vector; completes once it is durable (see <see cref="UpsertBatchAsync(IReadOnlyList{ulong}, VectorMatrix, IReadOnlyList{byte[]}, CancellationToken)"/>).</summary>
    public Task UpsertAsync(ulong id, ReadOnlyMemory<float> vector, ReadOnlyMemory<byte> payload = default, CancellationToken cancellationToken = default)
    {
        if (vector.Length != Options.Dimension) return Task.FromException(new InvalidVectorException($"collection '{Name}' expects dimension {Options.Dimension}, got {vector.Length}"));
        return UpsertBatchAsync([id], new VectorMatrix(vector.ToArray(), vector.Length), payload.IsEmpty ? null : [payload.ToArray()], cancellationToken);
    }

    /// <summary>
    /// <see cref="UpsertBatch(IReadOnlyList{ulong}, VectorMatrix, IReadOnlyList{byte[]})"/> whose durability wait does not block a thread: the task completes once the batch is
    /// durable (for a collection in a database directory). Validation errors fault the task with nothing changed.
    /// </summary>
    public Task UpsertBatchAsync(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads = null,
        CancellationToken cancellationToken = default) =>
        UpsertBatchAsync(ids, vectors, payloads, null, cancellationToken);

    /// <summary>
    /// <see cref="UpsertBatchAsync(IReadOnlyList{ulong}, VectorMatrix, IReadOnlyList{byte[]}, CancellationToken)"/> with
    /// field values (see <see cref="UpsertBatch(IReadOnlyList{ulong}, VectorMatrix, IReadOnlyList{byte[]}, IReadOnlyList{IReadOnlyDictionary{string, Filtering.FieldValue}})"/>).
    /// </summary>
    public async Task UpsertBatchAsync(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads,
        IReadOnlyList<IReadOnlyDictionary<string, Filtering.FieldValue>?>? fields, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(vectors);
        cancellationToken.ThrowIfCancellationRequested();
        var op = Instruments.StartOperation(DbOperations.Upsert, Name);
        try
        {
            if (vectors.Dimension != Options.Dimension) ThrowDim(vectors.Dimension);
            var prepared = UpsertBatchPreparation.Prepare(ids, vectors, payloads, Options.Metric, Interlocked.Exchange(ref _spareBatch, null));
            long ticket = ApplyUpsertsInMemory(ids, prepared, payloads, EncodeFields(ids, fields), log: true);
            await WaitDurableAsync(ticket, cancellationToken).ConfigureAwait(false);
            QueueRebalanceIfNeeded();
            ObserveDrift(prepared);
            ReturnSpareBatch(prepared);
            op.Succeeded(ids.Count);
        }
        catch (Exception e)
        {
            op.Failed(e);
            throw;
        }
    }

    /// <summary>Deletes <paramref name="id"/>; false when it was not present. Completes once the deletion is durable.</summary>
    public async Task<bool> DeleteAsync(ulong id, CancellationToken cancellationToken = default)
    {
        var present = await DeleteBatchAsync([id], cancellationToken).ConfigureAwait(false);
        return present[0];
    }

    /// <summary>
    /// Deletes <paramref name="ids"/> (per id, whether it was present) and waits once for all of them to be durable.
    /// Not atomic: a failure part-way leaves the earlier deletions applied.
    /// </summary>
    public async Task<bool[]> DeleteBatchAsync(IReadOnlyList<ulong> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        cancellationToken.ThrowIfCancellationRequested();
        var op = Instruments.StartOperation(DbOperations.Delete, Name);
        try
        {
            var present = new bool[ids.Count];
            var tickets = new List<long>();
            for (int i = 0; i < present.Length; i++)
            {
                if (!DeleteInMemory(ids[i], out long ticket)) continue;
                present[i] = true;
                tickets.Add(ticket);
                DuringDeleteBatchForTests?.Invoke(tickets.Count);
            }
            int deleted = tickets.Count;
            if (deleted > 0)
            {
                await WaitDurableAsync(tickets[^1], cancellationToken).ConfigureAwait(false);
                // Each delete takes the lock on its own, so another writer's failed commit can reset the log between
                // two of them: the earlier ones were then undone, and the last ticket, in the new epoch, says
                // nothing about them. The first that is not durable throws its epoch's failure.
                foreach (long t in tickets)
                {
                    if (!_journal.IsDurable(t)) await WaitDurableAsync(t, cancellationToken).ConfigureAwait(false);
                }
                QueueRebalanceIfNeeded();
            }
            op.Succeeded(deleted);
            return present;
        }
        catch (Exception e)
        {
            op.Failed(e);
            throw;
        }
    }

    /// <summary>Test hook: runs in <see cref="DeleteBatchAsync"/> after each deletion, with how many it has made (null outside tests).</summary>
    internal Action<int>? DuringDeleteBatchForTests { get; set; }

    /// <summary>The stored vector and payload of <paramref name="id"/>, or null (runs on the calling thread).</summary>
    public Task<VectorRecord?> GetAsync(ulong id, CancellationToken cancellationToken = default) =>
        InlineTask.Run(() => Get(id), cancellationToken);

    /// <summary>The records of <paramref name="ids"/>, null where absent (runs on the calling thread).</summary>
    public Task<IReadOnlyList<VectorRecord?>> GetBatchAsync(IReadOnlyList<ulong> ids, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return InlineTask.Run<IReadOnlyList<VectorRecord?>>(() =>
        {
            var records = new VectorRecord?[ids.Count];
            for (int i = 0; i < records.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                records[i] = Get(ids[i]);
            }
            return records;
        }, cancellationToken);
    }

    /// <summary>
    /// <see cref="Search"/> as a task (the search runs on the calling thread: it is CPU work, with nothing to wait
    /// for). A token cancelled beforehand cancels it.
    /// </summary>
    public Task<SearchHit[]> SearchAsync(ReadOnlyMemory<float> query, SearchOptions? options = null, CancellationToken cancellationToken = default) =>
        InlineTask.Run(() => Search(query.Span, options), cancellationToken);

    /// <summary>
    /// <see cref="SearchBatch"/> as a task; the token is checked between chunks of rows, so cancelling stops a long
    /// batch early (the task then ends cancelled, with no partial result).
    /// </summary>
    public Task<SearchHit[][]> SearchBatchAsync(VectorMatrix queries, SearchOptions? options = null, int threads = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queries);
        return InlineTask.Run(() => SearchBatchCore(queries, options, threads, cancellationToken), cancellationToken);
    }
}
