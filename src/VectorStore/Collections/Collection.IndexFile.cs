using VectorStore.Indexing;
using VectorStore.Memory;
using VectorStore.Storage;

namespace VectorStore.Collections;

/// <summary>
/// Incremental index snapshots (data-format.md §4.10): an index that replays changes cheaply
/// (<see cref="VectorIndex.ReplaysChanges"/>: flat, IVF) is written to its own file only when enough changed since the
/// last one (<see cref="StorageSettings.IndexRewriteFraction"/>); in between, each snapshot names that file and the
/// slots changed since, and recovery re-adds those from their vectors. A checkpoint so writes O(changes), not the whole
/// index, while a reopen replays a bounded fraction of the collection. An index that writes change images (HNSW) is
/// also written to its own file, and each snapshot carries the index's image of what changed since instead of slots.
/// Everything here runs under the collection's write or upgradeable lock.
/// </summary>
public sealed partial class Collection
{
    /// <summary>Below this many changed slots an index file is reused whatever the fraction (small collections).</summary>
    internal const int IndexFileMinChanges = 4096;

    /// <summary>Below this many bytes of change image an HNSW index file is reused whatever the fraction.</summary>
    internal const long IndexFileMinChangeBytes = 1 << 20;

    private PinnedFileReference? _indexFile;
    // The index object the file holds (weakly: a dropped generation's index must not stay alive for it) and its
    // structure revision then: a new object (training, promotion, rollback) or a rebalance makes the file unusable.
    private WeakReference<VectorIndex>? _indexFileOf;
    private long _indexFileRevision;
    // Slots whose entry differs from the file's (upserted or deleted since), one bit per slot (ascending for free,
    // 1/8 byte per slot); null once too many changed, or before any file exists: the next checkpoint writes a new file.
    private SlotBitmap? _changedSinceIndexFile;
    private int _changedCount;
    private int _nextIndexFile = 1;

    // The limit the last checkpoint was given: tracking stops beyond it (the next checkpoint writes a new file anyway).
    private double _indexRewriteFraction = new StorageSettings().IndexRewriteFraction;

    /// <summary>Records that <paramref name="slot"/>'s index entry changed (write lock held).</summary>
    private void NoteIndexFileChange(int slot)
    {
        if (_changedSinceIndexFile?.Add(slot) == true && ++_changedCount > ChangeLimit(_indexRewriteFraction))
            _changedSinceIndexFile = null;
    }

    /// <summary>Changed slots beyond which the index file is written anew.</summary>
    private double ChangeLimit(double rewriteFraction) => Math.Max(IndexFileMinChanges, _slots.Count * rewriteFraction);

    private void StartTrackingChanges(int[] changed)
    {
        _changedSinceIndexFile = new SlotBitmap(_slots.HighWater);
        _changedCount = 0;
        foreach (int slot in changed) NoteIndexFileChange(slot);
    }

    /// <summary>
    /// For a snapshot in <paramref name="directory"/>: the index file to name and the slots changed since it (writing a
    /// new file when the old one cannot serve), or (null, null) to write the index inline. Upgradeable lock held.
    /// </summary>
    private (PinnedFileReference? File, int[]? Changed) IndexSectionLocked(string directory, bool compact, StorageSettings settings)
    {
        double rewriteFraction = _indexRewriteFraction = settings.IndexRewriteFraction;
        var index = _index;
        if (index is not null && index.WritesChangeImages)
            return (ChangeImageIndexFileLocked(directory, index, compact, settings.IndexChangeImageFraction), null);
        if (index is null || !index.ReplaysChanges)
        {
            ForgetIndexFile();
            return (null, null);
        }
        bool reuse = !compact && rewriteFraction > 0 && _indexFile is not null && _changedSinceIndexFile is not null
            && _changedCount <= ChangeLimit(rewriteFraction)
            && Holds(_indexFileOf, index) && _indexFileRevision == index.StructureRevision;
        if (!reuse)
        {
            // A crash before the snapshot naming it is published leaves an orphan, deleted at the next open.
            _indexFile = IndexFile.Write(directory, _nextIndexFile++, index);
            _indexFileOf = new WeakReference<VectorIndex>(index);
            _indexFileRevision = index.StructureRevision;
            StartTrackingChanges([]);
        }
        return (_indexFile, _changedSinceIndexFile!.ToArray());
    }

    /// <summary>
    /// The index file for an index that writes change images (HNSW): reused while the change image stays under
    /// max(<see cref="IndexFileMinChangeBytes"/>, the file's length × <paramref name="imageFraction"/>,
    /// <see cref="StorageSettings.IndexChangeImageFraction"/>), so a checkpoint writes what changed, bounded by that
    /// fraction of the graph; otherwise written anew.
    /// </summary>
    private PinnedFileReference ChangeImageIndexFileLocked(string directory, VectorIndex index, bool compact, double imageFraction)
    {
        _changedSinceIndexFile = null;
        bool reuse = !compact && imageFraction > 0 && _indexFile is { } file && index.RecordsChanges
            && index.ChangeImageBytes <= Math.Max(IndexFileMinChangeBytes, file.Length * imageFraction)
            && Holds(_indexFileOf, index);
        if (reuse) return _indexFile!.Value;
        // Recording restarts before the image is written (a change in between is in both, harmlessly); if the write
        // fails no file is held, so the next checkpoint cannot name an older file with changes missing.
        _indexFile = null;
        _indexFileOf = null;
        index.StartChangeImage();
        var written = IndexFile.Write(directory, _nextIndexFile++, index);
        _indexFile = written;
        _indexFileOf = new WeakReference<VectorIndex>(index);
        return written;
    }

    private void ForgetIndexFile()
    {
        _indexFile = null;
        _indexFileOf = null;
        _changedSinceIndexFile = null;
    }

    /// <summary>
    /// After a snapshot that named an index file was restored: removes the changed slots' stale entries and adds the
    /// live ones again from their stored vectors (<see cref="ReplaySlots"/>). Write lock held.
    /// </summary>
    private void RestoreIndexFileLocked(PinnedFileReference file, int[] changed)
    {
        var index = _current.Index ?? throw new InvalidOperationException("an index file was restored without an index");
        _indexFile = file;
        _indexFileOf = new WeakReference<VectorIndex>(index);
        _indexFileRevision = index.StructureRevision;
        _nextIndexFile = Math.Max(_nextIndexFile, file.Sequence + 1);
        // The snapshot's change image was applied as the index was read, which keeps recording on top of it.
        if (index.WritesChangeImages) return;
        ReplaySlots(index, refine: null, changed, locked: true); // the refine codes were restored current
        // Still changed relative to the file: the next snapshot names them again (or writes a new file).
        StartTrackingChanges(changed);
    }

    IEnumerable<string> IJournaledState.DataFileNames()
    {
        var names = _raw.SegmentFileNames().ToList();
        if (_indexFile is { } f) names.Add(IndexFile.FileName(f.Sequence));
        if (_slotFile is { } sf) names.Add(SlotFile.FileName(sf.Sequence));
        if (_driftBaselineFile is { } df) names.Add(DriftBaselineFile.FileName(df.Sequence));
        if (_reservoirFile is { } rf) names.Add(DriftReservoirFile.FileName(rf.Sequence));
        if (_tuningQueriesFile is { } tf) names.Add(TuningQueriesFile.FileName(tf.Sequence));
        return names;
    }
}
