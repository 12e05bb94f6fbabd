namespace VectorStore.Collections;

/// <summary>
/// Undoing writes whose commit failed. A write is applied in memory under the write lock right after its log append
/// and becomes durable with the next group commit, outside the lock; when that commit fails (a full disk, an I/O
/// error), every write past the last durable point is lost from the log, so it must leave memory too: the
/// collection keeps, until each write is durable, what undoes it (the previous vector, payload and fields of each
/// row, or that the id was absent), and the first writer that sees the failure reopens the journal and undoes them
/// newest first, before anyone is told of the error. A later write finds the journal working again.
/// </summary>
/// <remarks>
/// Concurrent searches may see such a write before its commit fails, as they see any write before it is durable
/// (the same as a write lost to a crash). Generation changes, index builds and automatic training are not undone:
/// a failed one stays in memory (its caller gets the error) and reaches the log with the next snapshot.
/// </remarks>
public sealed partial class Collection
{
    // In log order (tickets increase); only for a journal whose commits can fail. Guarded by the write lock.
    private readonly List<UndoStep> _undo = [];

    /// <summary>What undoes one row of a write: its previous content, or that it was absent (<paramref name="Vector"/> null).</summary>
    private readonly record struct UndoStep(long Ticket, ulong Id, float[]? Vector, byte[]? Payload, byte[]? Fields);

    /// <summary>Keeps what undoes writing each of <paramref name="ids"/> (before it is applied). Write lock held.</summary>
    private void RecordUndoLocked(IReadOnlyList<ulong> ids, IReadOnlyList<long> tickets)
    {
        // Steps at or below the durable point can no longer be needed.
        long durable = _journal.DurableTicket;
        int done = 0;
        while (done < _undo.Count && _undo[done].Ticket <= durable) done++;
        if (done > 0) _undo.RemoveRange(0, done);
        for (int i = 0; i < ids.Count; i++)
        {
            _undo.Add(_slots.TryGetSlot(ids[i], out int slot)
                ? new UndoStep(tickets[i], ids[i], _raw.Get(slot).ToArray(), _raw.Payload(slot), _fields?.Encode(slot))
                : new UndoStep(tickets[i], ids[i], null, null, null));
        }
    }

    /// <summary>
    /// When the journal's last commit failed: reopens it and undoes every write it lost. Write lock held. If the
    /// journal cannot be reopened, the collection stops (Collection.Fault.cs) and the error is thrown: the database
    /// reopens it from its files, which then say which writes survived.
    /// </summary>
    /// <remarks>
    /// Why not undo down to the old durable point and let the next write try again: a reopening can fail after FASTER
    /// recovered past that point (its metadata for the failed commit had reached the disk; writing the durable-tail
    /// record failed), and a later attempt keeps those entries. Memory would then lack writes the files hold, and an
    /// attempt that kept less than FASTER's metadata claims left a log that refused to open (notes/issue-20-diskfull.md).
    /// </remarks>
    private void RecoverFromJournalFailureLocked()
    {
        if (!_journal.Failed) return;
        // A stopped collection's memory is discarded at its reopening: it is never reset or undone.
        ThrowIfFaulted();
        long durable;
        try { durable = _journal.ResetAfterFailure(); }
        catch (Exception e) when (e is not ObjectDisposedException)
        {
            Fault(e, "reopening its write-ahead log after a failed write failed");
            throw;
        }
        UndoPastLocked(durable);
    }

    private void UndoPastLocked(long durable)
    {
        try { UndoPastCoreLocked(durable); }
        catch (Exception e)
        {
            // Half undone, with the log already reset past these writes: memory matches neither; stop (Collection.Fault.cs).
            throw Fault(e);
        }
    }

    private void UndoPastCoreLocked(long durable)
    {
        int keep = _undo.Count;
        while (keep > 0 && _undo[keep - 1].Ticket > durable) keep--;
        for (int i = _undo.Count - 1; i >= keep; i--)
        {
            var step = _undo[i];
            if (step.Vector is null)
            {
                ApplyDelete(step.Id);
                continue;
            }
            var row = new VectorMatrix(step.Vector, Options.Dimension);
            var slots = PlaceRowsLocked([step.Id], row, [step.Payload], step.Fields is null ? null : [step.Fields]);
            _index?.AddBatch(slots, row, _threads);
            foreach (var g in _attached) g.Index!.AddBatch(slots, row, _threads);
        }
        _undo.RemoveRange(keep, _undo.Count - keep);
    }

    /// <summary><see cref="RecoverFromJournalFailureLocked"/> taking the write lock (a no-op while the journal works).</summary>
    internal void RecoverAfterStorageFailure()
    {
        if (!_journal.Failed) return;
        _lock.EnterWriteLock();
        try { RecoverFromJournalFailureLocked(); }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>
    /// The journal's durability wait; on a storage failure the lost writes are undone before the error is thrown.
    /// </summary>
    /// <remarks>
    /// KeptByTheReset: a commit can fail after FASTER's metadata for it reached the disk (the durable-tail record's
    /// write failed, or a later flush did). The reset keeps what that metadata claims and the undo keeps those writes in
    /// memory, so their writers are told they succeeded, which is true: the write is durable and visible. Telling them it
    /// failed left a "failed" write in the collection and after every crash. A reset that fails stops the collection
    /// instead (<see cref="RecoverFromJournalFailureLocked"/>), so no write is acknowledged from a half-done one.
    /// </remarks>
    private void WaitDurable(long ticket)
    {
        try { _journal.WaitDurable(ticket); }
        catch (Exception e) when (e is StorageFullException or StorageIoException)
        {
            RecoverAfterStorageFailure();
            if (_journal.IsDurable(ticket)) return; // see KeptByTheReset
            throw;
        }
        catch (ObjectDisposedException) when (Faulted)
        {
            // The stopped collection's store was closed for its reopening while this write waited.
            ThrowIfFaulted();
            throw;
        }
        catch (ObjectDisposedException e)
        {
            throw ClosedWhileWaiting(e);
        }
    }

    /// <summary>
    /// The error of a write whose durability wait a close (of the database, or a drop) cut short. The write was applied and logged,
    /// and the close's snapshot may well have kept it: its outcome is unknown, which FASTER's "log has been disposed"
    /// (or a storage type's name) did not tell the caller.
    /// </summary>
    private ObjectDisposedException ClosedWhileWaiting(ObjectDisposedException cause) =>
        new($"collection '{Name}' was closed (its database disposed, or the collection dropped) while this write waited to become durable, "
            + "so it was not acknowledged; its outcome is unknown (a database's close may have made it durable): reopen the database and read it to know", cause);

    /// <summary><see cref="WaitDurable"/> without holding a thread.</summary>
    private async ValueTask WaitDurableAsync(long ticket, CancellationToken cancellationToken)
    {
        try { await _journal.WaitDurableAsync(ticket, cancellationToken).ConfigureAwait(false); }
        catch (Exception e) when (e is StorageFullException or StorageIoException)
        {
            RecoverAfterStorageFailure();
            if (_journal.IsDurable(ticket)) return; // see KeptByTheReset on WaitDurable
            throw;
        }
        catch (ObjectDisposedException) when (Faulted)
        {
            ThrowIfFaulted();
            throw;
        }
        catch (ObjectDisposedException e)
        {
            throw ClosedWhileWaiting(e);
        }
    }
}
