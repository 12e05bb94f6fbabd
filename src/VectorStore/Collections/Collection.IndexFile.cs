using VectorStore.Indexing;
using VectorStore.Storage;

namespace VectorStore.Collections;

/// <summary>
/// Incremental index snapshots (data-format.md §4.10): an index that replays changes cheaply
/// (<see cref="VectorIndex.ReplaysChanges"/>: flat, IVF) is written to its own file only when enough changed since the
/// last one (<see cref="StorageSettings.IndexRewriteFraction"/>); in between, each snapshot names that file and the
/// slots changed since, and recovery re-adds those from their vectors. A checkpoint so writes O(changes), not the whole
/// index, while a reopen replays a bounded fraction of the collection. Everything here runs under the collection's
/// write or upgradeable lock.
/// </summary>
public sealed partial class Collection
{
    /// <summary>Below this many changed slots an index file is reused whatever the fraction (small collections).</summary>
    internal const int IndexFileMinChanges = 4096;

    private IndexFileReference? _indexFile;
    // The index object the file holds and its structure revision then: a new object (training, promotion, rollback)
    // or a rebalance makes the file unusable.
    private VectorIndex? _indexFileOf;
    private long _indexFileRevision;
    // Slots whose entry differs from the file's (upserted or deleted since); null once too many changed, or before
    // any file exists: the next checkpoint writes a new file.
    private HashSet<int>? _changedSinceIndexFile;
    private int _nextIndexFile = 1;

    // The limit the last checkpoint was given: tracking stops beyond it (the next checkpoint writes a new file anyway).
    private double _indexRewriteFraction = 0.125;

    /// <summary>Records that <paramref name="slot"/>'s index entry changed (write lock held).</summary>
    private void NoteIndexFileChange(int slot)
    {
        var changed = _changedSinceIndexFile;
        if (changed is null) return;
        changed.Add(slot);
        if (changed.Count > Math.Max(IndexFileMinChanges, _slots.Count * _indexRewriteFraction)) _changedSinceIndexFile = null;
    }

    /// <summary>
    /// For a snapshot in <paramref name="directory"/>: the index file to name and the slots changed since it (writing a
    /// new file when the old one cannot serve), or (null, null) to write the index inline. Upgradeable lock held.
    /// </summary>
    private (IndexFileReference? File, int[]? Changed) IndexSectionLocked(string directory, bool compact, double rewriteFraction)
    {
        _indexRewriteFraction = rewriteFraction;
        var index = _index;
        if (index is null || !index.ReplaysChanges)
        {
            ForgetIndexFile();
            return (null, null);
        }
        bool reuse = !compact && rewriteFraction > 0 && _indexFile is not null && _changedSinceIndexFile is not null
            && _changedSinceIndexFile.Count <= Math.Max(IndexFileMinChanges, _slots.Count * rewriteFraction)
            && ReferenceEquals(_indexFileOf, index) && _indexFileRevision == index.StructureRevision;
        if (!reuse)
        {
            // A crash before the snapshot naming it is published leaves an orphan, deleted at the next open.
            _indexFile = IndexFile.Write(directory, _nextIndexFile++, index);
            _indexFileOf = index;
            _indexFileRevision = index.StructureRevision;
            _changedSinceIndexFile = [];
        }
        var changed = _changedSinceIndexFile!.ToArray();
        Array.Sort(changed);
        return (_indexFile, changed);
    }

    private void ForgetIndexFile()
    {
        _indexFile = null;
        _indexFileOf = null;
        _changedSinceIndexFile = null;
    }

    /// <summary>
    /// After a snapshot that named an index file was restored: removes the changed slots' stale entries and adds the
    /// live ones again from their stored vectors, a chunk at a time (bounded memory). Write lock held.
    /// </summary>
    private void RestoreIndexFileLocked(IndexFileReference file, int[] changed)
    {
        var index = _current.Index ?? throw new InvalidOperationException("an index file was restored without an index");
        _indexFile = file;
        _indexFileOf = index;
        _indexFileRevision = index.StructureRevision;
        _nextIndexFile = Math.Max(_nextIndexFile, file.Sequence + 1);
        foreach (int slot in changed) index.Remove(slot);
        const int Chunk = 4096;
        var slots = new List<int>(Math.Min(Chunk, changed.Length));
        var rows = new VectorMatrix(Math.Min(Chunk, Math.Max(1, changed.Length)), Options.Dimension);
        foreach (int slot in changed)
        {
            if (!IsLiveSlot(slot)) continue;
            _raw.Get(slot).CopyTo(rows.Data.AsSpan(slots.Count * Options.Dimension, Options.Dimension));
            slots.Add(slot);
            if (slots.Count == rows.Count) AddChunk();
        }
        AddChunk();
        // Still changed relative to the file: the next snapshot names them again (or writes a new file).
        _changedSinceIndexFile = [.. changed];

        void AddChunk()
        {
            if (slots.Count == 0) return;
            index.AddBatch(slots.ToArray(), slots.Count == rows.Count ? rows : rows.Slice(0, slots.Count), _threads);
            slots.Clear();
        }
    }

    IEnumerable<string> IJournaledState.DataFileNames()
    {
        var names = _raw.SegmentFileNames().ToList();
        if (_indexFile is { } f) names.Add(IndexFile.FileName(f.Sequence));
        return names;
    }
}
