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

    /// <summary>
    /// Replaces the (empty) state with a snapshot's and the segments it names; returns the log address the snapshot
    /// covers. <paramref name="legacy"/>: the snapshot was written by the previous format (vectors inside it, now
    /// buffered), so the caller checkpoints at once to migrate.
    /// </summary>
    long RestoreSnapshot(string path, out bool legacy);

    /// <summary>
    /// Seals buffered vectors into a new segment (merging segments with dead rows: all of them with
    /// <paramref name="compact"/>), writes a snapshot file naming the segments, and returns the log address it
    /// covers (a record boundary).
    /// </summary>
    long WriteSnapshot(string path, IWriteAheadLog wal, bool compact, StorageSettings settings);

    /// <summary>After the snapshot is published: releases what merges retired (their files are then deleted by the caller).</summary>
    void AfterPublish();

    /// <summary>
    /// File names of the segments, index, slot, drift baseline, drift reservoir and tuning queries files the state
    /// references (anything else named <c>seg-*</c>, <c>idx-*</c>, <c>slots-*</c>, <c>drift-*</c>, <c>reservoir-*</c> or
    /// <c>tuning-*</c> is an orphan).
    /// </summary>
    IEnumerable<string> DataFileNames();

    /// <summary>
    /// Whether state no log record carries changed since the last snapshot (finished search tunings): a checkpoint is
    /// then due even with nothing new in the log, or a clean close would lose it.
    /// </summary>
    bool UnloggedChanges => false;

    /// <summary>Bytes of vectors waiting in memory for the next checkpoint.</summary>
    long BufferedBytes { get; }

    /// <summary>Applies logged upserts (already validated and normalized when they were first written) without logging them again.</summary>
    void ReplayUpserts(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads, IReadOnlyList<byte[]?>? fields);

    /// <summary>Applies a logged delete.</summary>
    void ReplayDelete(ulong id);

    /// <summary>Applies a logged explicit index build.</summary>
    void ReplayBuildIndex();

    /// <summary>Applies a logged generation change.</summary>
    void ReplayGeneration(GenerationRecord record);

    /// <summary>
    /// After a failed commit: reopens the journal and undoes in memory every write it lost (a no-op when it has not
    /// failed, or another caller did it already).
    /// </summary>
    void RecoverAfterStorageFailure();
}
