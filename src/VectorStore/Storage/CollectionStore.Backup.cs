namespace VectorStore.Storage;

/// <summary>A consistent copy of the collection's files while it serves (online backup).</summary>
internal sealed partial class CollectionStore
{
    /// <summary>
    /// Writes a copy of the collection into <paramref name="target"/> (a new directory) that opens as the collection
    /// did when this call began: a checkpoint first covers every write acknowledged before it, then, under the
    /// checkpoint gate (so no later checkpoint or merge deletes or appends to what is being copied), the snapshot and
    /// every file it names are copied and fsynced. The copy gets a new, empty log and its snapshot that log's first
    /// address (<see cref="SnapshotFile.CopyWithLogAddress"/>), so it needs none of this log's records. Writers and
    /// searches go on meanwhile; background checkpoints wait for the copy. Returns the copy's manifest entry and live count.
    /// </summary>
    /// <remarks>Files are copied, not linked: a backup is meant to outlive the disk it came from.</remarks>
    public (ManifestCollection Entry, int Count, long Bytes) CopyTo(string target, CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        lock (_snapshotGate)
        {
            ThrowIfDisposed();
            if (Dirty || Entry.Snapshot is null) Checkpoint();
            var entry = Entry;
            var collection = _collection ?? throw new InvalidOperationException("store has no collection attached");
            System.IO.Directory.CreateDirectory(target);
            long bytes = 0;
            foreach (string name in collection.DataFileNames())
            {
                cancellationToken.ThrowIfCancellationRequested();
                string to = Path.Combine(target, name);
                File.Copy(Path.Combine(Directory, name), to);
                FileDurability.FsyncFile(to);
                bytes += new FileInfo(to).Length;
            }
            CollectionDescriptor.Write(target, entry);
            string wal = Path.Combine(target, "wal");
            long begin;
            using (var log = FasterWriteAheadLog.Open(wal, _settings.Wal with { Faults = null }, create: true)) begin = log.BeginAddress;
            FileDurability.FsyncDirectory(wal);
            string snapshot = entry.Snapshot ?? throw new InvalidOperationException("a checkpoint published no snapshot");
            int count = SnapshotFile.CopyWithLogAddress(Path.Combine(Directory, snapshot), Path.Combine(target, snapshot), collection.Dimension, begin);
            bytes += new FileInfo(Path.Combine(target, snapshot)).Length;
            FileDurability.FsyncDirectory(target);
            return (entry with { SnapshotLogAddress = begin }, count, bytes);
        }
    }
}
