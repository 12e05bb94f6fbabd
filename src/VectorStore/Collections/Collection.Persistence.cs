using VectorStore.Storage;

namespace VectorStore.Collections;

/// <summary>Snapshot and recovery entry points used by the storage engine (see <see cref="CollectionStore"/>).</summary>
public sealed partial class Collection : IJournaledState
{
    int IJournaledState.Dimension => Options.Dimension;

    /// <summary>Applies logged upserts without logging them again.</summary>
    void IJournaledState.ReplayUpserts(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads, IReadOnlyList<byte[]?>? fields) =>
        ApplyUpserts(ids, vectors, payloads, fields, log: false);

    /// <summary>
    /// Writes the collection's state to a snapshot file and returns the log address it covers: captured under the
    /// same lock, so it is a record boundary and every record before it is reflected in the snapshot.
    /// </summary>
    /// <remarks>
    /// The upgradeable read lock, not the plain read lock: a writer holds the upgradeable lock while a
    /// self-synchronizing index (HNSW) absorbs a batch after the write lock is released, and a snapshot taken inside
    /// that window would record the batch's log address with only part of the batch in the graph. Searches still
    /// run while the snapshot is written; writers wait.
    /// </remarks>
    long IJournaledState.WriteSnapshot(string path, IWriteAheadLog wal, bool compact, StorageSettings settings)
    {
        // The bulk of the buffer is sealed before the lock, while writers continue; under the lock only what changed
        // since is sealed (see SegmentedVectors.PreSeal). The id read may race with a writer: such rows are never adopted.
        var pre = _closed || Faulted ? null : _raw.PreSeal(slot => _slots.Ids[slot]);
        _lock.EnterUpgradeableReadLock();
        try
        {
            long address;
            try
            {
                ThrowIfClosed();
                address = wal.CaptureBoundary();
            }
            catch
            {
                // Not adopted (a drop or close raced the unlocked half, or the log failed): no snapshot names it, so
                // it goes now rather than piling up while a failing checkpoint is retried (the next open would remove it).
                if (pre is not null)
                {
                    pre.Segment.Dispose();
                    try { File.Delete(pre.Segment.Path); }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
                }
                throw;
            }
            string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
            var segments = _raw.Seal(_slots.Ids, _slots.HighWater, compact, pre, relocated: NoteSlotChange);
            var (indexFile, changed) = IndexSectionLocked(directory, compact, settings);
            var slotFile = SlotSectionLocked(directory, compact, settings.SlotChangeFraction);
            long tunings = Interlocked.Read(ref _tuningsKept); // read before the section is built: one kept meanwhile stays unwritten
            SnapshotFile.Write(path, new SnapshotImage
            {
                LogAddress = address,
                Dimension = Options.Dimension,
                HighWater = _slots.HighWater,
                Count = _slots.Count,
                LiveBits = _slots.LiveBits,
                Ids = _slots.Ids,
                Fields = _fields is null ? null : _fields.Encode,
                Segments = segments,
                Location = _raw.Location,
                Index = _index,
                Refine = _refine,
                Generations = SnapshotGenerationsLocked(directory),
                IndexFile = indexFile,
                ChangedSlots = changed,
                SlotFile = slotFile,
            });
            _tuningsInSnapshot = tunings; // written once the snapshot is published (AfterPublish): a failed publish writes nothing
            return address;
        }
        finally { _lock.ExitUpgradeableReadLock(); }
    }

    /// <summary>
    /// After a publish: the tunings the published snapshot holds count as written, and merged-away segments are
    /// unmapped under the write lock (no search may be reading them).
    /// </summary>
    void IJournaledState.AfterPublish()
    {
        Volatile.Write(ref _tuningsWritten, Volatile.Read(ref _tuningsInSnapshot));
        Volatile.Write(ref _driftWritten, _driftInSnapshot);
        _lock.EnterWriteLock();
        try { _raw.ReleaseRetired(); }
        finally { _lock.ExitWriteLock(); }
    }

    long IJournaledState.BufferedBytes => _raw.BufferedBytes;

    bool IJournaledState.UnloggedChanges => Interlocked.Read(ref _tuningsKept) != Volatile.Read(ref _tuningsWritten) || DriftChangedSinceSnapshot();

    /// <summary>Replaces the (empty) state with a snapshot's; returns the log address to replay from.</summary>
    long IJournaledState.RestoreSnapshot(string path, out bool legacy)
    {
        _lock.EnterWriteLock();
        try
        {
            if (_slots.Count != 0 || _slots.HighWater != 0) throw new InvalidOperationException("restore into a non-empty collection");
            var c = SnapshotFile.Read(path, Options.Dimension, (s, v) => _raw.Set(s, v, null), Options.Metric.ToDistanceKind());
            legacy = c.Version < 2;
            if (_fields is null && c.Fields is not null)
                throw new StoreCorruptedException(path, "the snapshot holds field values but the collection declares no fields");
            _fields?.BeginBulk();
            _slots.Restore(c.HighWater, c.LiveBits, c.Ids, path, s => _fields?.Set(s, c.Fields?[s], path));
            _fields?.EndBulk();
            if (c.Locations is not null) _raw.Restore(c.Segments, c.Locations, c.Ids, _slots.IsLive, path);
            // A snapshot written before payloads moved into segments carries them itself: they are held until the
            // checkpoint that completes the migration (at once on a writable open) rewrites their rows with them.
            if (c.Payloads is { } legacyPayloads)
            {
                legacy = true;
                for (int s = 0; s < c.HighWater; s++)
                    if (legacyPayloads[s] is { Length: > 0 } payload) _raw.AdoptLegacyPayload(s, payload);
            }
            if (c.Refine is not null && _refineSpec is null)
                throw new StoreCorruptedException(path, "the snapshot holds refine codes but the collection declares no refine stage");
            if (c.Index is not null && c.Refine is null && _refineSpec is not null)
                throw new StoreCorruptedException(path, $"the collection declares refine '{Options.Refine}' but its snapshot's trained index has no refine codes");
            RestoreGenerationsLocked(c.Generations, c.Index, c.Refine);
            if (c.IndexFile is { } indexFile) RestoreIndexFileLocked(indexFile, c.ChangedSlots);
            if (c.SlotFile is { } slotFile) RestoreSlotFileLocked(slotFile, c.SlotFileChanges);
            return c.LogAddress;
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>Replays a logged <see cref="BuildIndex"/> without journaling it again.</summary>
    void IJournaledState.ReplayBuildIndex()
    {
        _lock.EnterWriteLock();
        try
        {
            if (_index is null && _slots.Count > 0) TrainLocked();
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>Replays a logged generation change.</summary>
    void IJournaledState.ReplayGeneration(GenerationRecord record) => ReplayGenerationChange(record);

    /// <summary>Replays a logged delete.</summary>
    void IJournaledState.RecoverAfterStorageFailure() => RecoverAfterStorageFailure();

    /// <inheritdoc />
    void IJournaledState.ReplayDelete(ulong id)
    {
        _lock.EnterWriteLock();
        try { ApplyDelete(id); }
        finally { _lock.ExitWriteLock(); }
    }
}
