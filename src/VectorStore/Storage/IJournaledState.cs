namespace VectorStore.Storage;

/// <summary>
/// The in-memory state a <see cref="CollectionStore"/> recovers into and checkpoints from: a collection, seen
/// through only what recovery and snapshots need, so storage never depends on the collection layer above it.
/// Implementations synchronise each call themselves (recovery runs before the state is shared; snapshots run
/// beside searches).
/// </summary>
internal interface IJournaledState
{
    /// <summary>Values per vector.</summary>
    int Dimension { get; }

    /// <summary>Live vectors.</summary>
    int Count { get; }

    /// <summary>Replaces the (empty) state with a snapshot's; returns the log address the snapshot covers.</summary>
    long RestoreSnapshot(string path);

    /// <summary>Writes the state to a snapshot file; returns the log address it covers (a record boundary).</summary>
    long WriteSnapshot(string path, IWriteAheadLog wal);

    /// <summary>Applies logged upserts (already validated and normalized when they were first written) without logging them again.</summary>
    void ReplayUpserts(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads);

    /// <summary>Applies a logged delete.</summary>
    void ReplayDelete(ulong id);

    /// <summary>Applies a logged explicit index build.</summary>
    void ReplayBuildIndex();
}
