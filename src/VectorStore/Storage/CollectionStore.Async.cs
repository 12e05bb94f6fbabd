namespace VectorStore.Storage;

/// <summary>The asynchronous durability wait of <see cref="ICollectionJournal"/>.</summary>
internal sealed partial class CollectionStore
{
    /// <inheritdoc />
    public async ValueTask WaitDurableAsync(long ticket, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        if (!IsDurable(ticket, out long epoch, out long address)) await _wal.CommitAsync(address, epoch, cancellationToken).ConfigureAwait(false);
        StartCheckpointIfDue();
        NoteWriteForIdleCheckpoint();
        if (OverStallBound()) await WaitForBufferRoomAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary><see cref="Flush"/> without blocking: completes once every record appended so far is durable.</summary>
    public ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        return _wal.CommitAsync(_wal.TailAddress, _wal.Resets, cancellationToken);
    }
}
