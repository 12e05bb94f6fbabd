namespace VectorStore.Storage;

/// <summary>A consistent copy of the collection's files while it serves (online backup).</summary>
internal sealed partial class CollectionStore
{
    /// <summary>
    /// Writes a copy of the collection into <paramref name="target"/> (a new directory) that opens as the collection
    /// did when this call began: a checkpoint first covers every write acknowledged before it, then, under the
    /// checkpoint gate (so no later checkpoint or merge deletes or appends to what is being copied), the snapshot and
    /// every file it names are copied and fsynced (a drop or close in the meantime stops the copy between two files with
    /// <see cref="ObjectDisposedException"/>). The copy gets a new, empty log and its snapshot that log's first
    /// address (<see cref="SnapshotFile.CopyWithLogAddress"/>), so it needs none of this log's records. Writers and
    /// searches go on meanwhile; background checkpoints wait for the copy, and so, for up to
    /// <see cref="StorageSettings.MaxWriteStall"/> each, do writers that fill the buffer to its stall bound meanwhile.
    /// Returns the copy's manifest entry and live count.
    /// Errors about the backup as a whole name <paramref name="backup"/>, the directory the user asked for (the copy is
    /// written into a hidden partial directory first). With <paramref name="linkFrom"/> (this collection's directory in
    /// a previous backup), each sealed file found there unchanged is hard-linked instead of copied (incremental backup;
    /// <c>LinkedBytes</c> counts them); the drift reservoir, which grows in place, is always copied.
    /// </summary>
    /// <remarks>
    /// Never linked to the live database's own files, only to a previous backup's: a backup is meant to outlive the
    /// disk it came from.
    /// </remarks>
    public (ManifestCollection Entry, int Count, long Bytes, long LinkedBytes) CopyTo(string target, string backup, string? linkFrom, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        lock (_snapshotGate)
        {
            ThrowIfDisposed();
            // Always: a checkpoint whose publish failed leaves the collection naming files the published snapshot does
            // not (and nothing dirty), and an older release's snapshot must be rewritten in the current format first.
            // After this one the published snapshot and DataFileNames agree, and the gate keeps them so.
            Checkpoint();
            var entry = Entry;
            var collection = _collection ?? throw new InvalidOperationException("store has no collection attached");
            string[] files = [.. collection.DataFileNames(), entry.Snapshot ?? throw new InvalidOperationException("a checkpoint published no snapshot")];
            System.IO.Directory.CreateDirectory(target);
            // Links first (they take no data blocks), each checked against the live file through the link itself, so
            // a previous backup changed meanwhile cannot slip an unchecked file in; then the room check for the rest.
            var linked = linkFrom is null ? [] : LinkUnchanged(files[..^1], linkFrom, target);
            CheckRoomFor(target, backup, files.Where(f => !linked.Contains(f)));
            foreach (string name in files[..^1])
            {
                if (linked.Contains(name)) continue;
                cancellationToken.ThrowIfCancellationRequested();
                // A drop or close waits for this gate while holding the database's own lock: give way between files.
                ThrowIfDisposed();
                string from = Path.Combine(Directory, name), to = Path.Combine(target, name);
                try
                {
                    File.Copy(from, to);
                    FileDurability.FsyncFile(to);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Named by the source: a file the database cannot read is the news (a full backup disk says ENOSPC).
                    throw FileSpace.Failure(e, from, $"copying it to {to}");
                }
            }
            CollectionDescriptor.Write(target, entry);
            string wal = Path.Combine(target, "wal");
            long begin;
            using (var log = FasterWriteAheadLog.Open(wal, _settings.Wal with { Faults = null }, create: true)) begin = log.BeginAddress;
            FileDurability.FsyncDirectory(wal);
            string snapshot = files[^1];
            int count = SnapshotFile.CopyWithLogAddress(Path.Combine(Directory, snapshot), Path.Combine(target, snapshot), collection.Dimension, begin);
            FileDurability.FsyncDirectory(target);
            // Every byte written for it (what `du -sb` shows), the descriptor and the empty log included.
            long bytes = System.IO.Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            long linkedBytes = linked.Sum(f => new FileInfo(Path.Combine(target, f)).Length);
            return (entry with { SnapshotLogAddress = begin }, count, bytes, linkedBytes);
        }
    }

    /// <summary>
    /// Hard-links into <paramref name="target"/> each of <paramref name="files"/> that <paramref name="linkFrom"/> holds
    /// unchanged (judged through the new link against this collection's own file; a link that turns out different is
    /// removed) and fsyncs it (the previous backup may be a plain copy whose data never reached the disk). The drift
    /// reservoir, which grows in place, is never linked. Returns the names linked; the rest are for the caller to copy.
    /// </summary>
    private HashSet<string> LinkUnchanged(string[] files, string linkFrom, string target)
    {
        var linked = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in files)
        {
            if (DriftReservoirFile.IsName(name)) continue;
            string to = Path.Combine(target, name);
            if (!FileLinks.TryHardLink(Path.Combine(linkFrom, name), to)) continue;
            if (!FileLinks.SameContent(Path.Combine(Directory, name), to))
            {
                File.Delete(to);
                continue;
            }
            try
            {
                FileDurability.FsyncReadOnly(to);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw FileSpace.Failure(e, to, "syncing a file linked from the previous backup");
            }
            linked.Add(name);
        }
        return linked;
    }

    /// <summary>
    /// Refuses, before anything of it is written, a copy of <paramref name="files"/> that would leave less than the
    /// database's free-space reserve (<see cref="StorageSettings.MinFreeBytes"/>) on the backup's file system: a backup
    /// on the database's own disk must not take the room its writers and checkpoints keep.
    /// </summary>
    private void CheckRoomFor(string target, string backup, IEnumerable<string> files)
    {
        long need = 64L << 10; // the descriptor and the empty log
        foreach (string f in files)
        {
            string path = Path.Combine(Directory, f);
            try { need += new FileInfo(path).Length; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw FileSpace.Failure(e, path, "reading its size for the backup");
            }
        }
        long free = FileSpace.AvailableBytes(Path.GetDirectoryName(target)!);
        if (free - need < _settings.MinFreeBytes)
            throw new StorageFullException(backup,
                $"copying collection '{Entry.Name}' needs {need} bytes and {free} are free on the backup's file system, which would leave less than the " +
                $"database's free-space reserve of {_settings.MinFreeBytes} bytes (DatabaseOptions.MinFreeDiskBytes); nothing of it was written; free space or back up to another disk");
    }
}
