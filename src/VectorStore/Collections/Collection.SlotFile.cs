using VectorStore.Memory;
using VectorStore.Storage;

namespace VectorStore.Collections;

/// <summary>
/// Incremental per-slot state (data-format.md §4.11): the live bitmap, ids, segment locations and field values are
/// written to a slot file only when enough changed since the last one (<see cref="StorageSettings.SlotChangeFraction"/>);
/// in between, each snapshot names that file and carries the entries of the slots changed since (upserted, deleted, or
/// moved to another segment row by a seal or merge). A checkpoint so writes O(changes) instead of about 24 bytes for
/// every slot. Everything here runs under the collection's write or upgradeable lock.
/// </summary>
public sealed partial class Collection
{
    /// <summary>Below this many changed slots a slot file is reused whatever the fraction (small collections).</summary>
    internal const int SlotFileMinChanges = 4096;

    private PinnedFileReference? _slotFile;
    // Slots whose entry differs from the slot file's; null before any file exists (the next checkpoint writes one).
    private SlotBitmap? _changedSinceSlotFile;
    private int _slotChangeCount;
    private int _nextSlotFile = 1;

    /// <summary>Records that <paramref name="slot"/>'s entry (liveness, id, location or fields) changed (lock held).</summary>
    private void NoteSlotChange(int slot)
    {
        if (_changedSinceSlotFile?.Add(slot) == true) _slotChangeCount++;
    }

    /// <summary>
    /// For a snapshot in <paramref name="directory"/>, after the seal: the slot file to name and the slots changed since
    /// it, writing a new file when the changes would pass max(<see cref="SlotFileMinChanges"/> entries, the file's
    /// length × the fraction) or at compaction. Upgradeable lock held.
    /// </summary>
    private (PinnedFileReference File, int[] Changed) SlotSectionLocked(string directory, bool compact, double fraction)
    {
        bool reuse = !compact && fraction > 0 && _slotFile is { } file && _changedSinceSlotFile is not null
            && (long)_slotChangeCount * SlotFile.ChangeEntryBytes <= Math.Max((long)SlotFileMinChanges * SlotFile.ChangeEntryBytes, file.Length * fraction);
        if (!reuse)
        {
            // If the write fails no file is held, so the next checkpoint cannot name an older one with changes missing.
            _slotFile = null;
            _changedSinceSlotFile = null;
            _slotFile = SlotFile.Write(directory, _nextSlotFile++, _slots.HighWater, _slots.Count, _slots.LiveBits, _slots.Ids, _raw.Location,
                _fields is null ? null : _fields.Encode);
            _changedSinceSlotFile = new SlotBitmap(_slots.HighWater);
            _slotChangeCount = 0;
        }
        return (_slotFile!.Value, _changedSinceSlotFile!.ToArray());
    }

    /// <summary>After a snapshot that named a slot file was restored: keeps naming it, with its changes still pending. Write lock held.</summary>
    private void RestoreSlotFileLocked(PinnedFileReference file, int[] changed)
    {
        _slotFile = file;
        _nextSlotFile = Math.Max(_nextSlotFile, file.Sequence + 1);
        _changedSinceSlotFile = new SlotBitmap(_slots.HighWater);
        _slotChangeCount = 0;
        foreach (int slot in changed) NoteSlotChange(slot);
    }
}
