using System.Globalization;

namespace VectorStore.Storage;

/// <summary>
/// Rebuilds a lost MANIFEST from what the collection directories hold (issue 20 item 3): each collection's settings
/// from its descriptor (<see cref="CollectionDescriptor"/>), its snapshot as the newest <c>snap-N.vss</c> whose
/// checksum verifies (an unpublished or damaged newer one is passed over, never deleted). The caller then proves the
/// rebuilt manifest by a read-only open of the whole database — every snapshot, segment and log entry checked as at
/// any open — and <see cref="Discard"/>s it if that fails, so the directory is left as it was. Thread-safety: run it
/// alone on a directory (no database can be open on it: every open refuses while the manifest is missing).
/// </summary>
internal static class ManifestRecovery
{
    /// <summary>Removes a rebuilt manifest that did not verify.</summary>
    public static void Discard(string directory)
    {
        File.Delete(Path.Combine(directory, Manifest.FileName));
        FileDurability.FsyncDirectory(directory);
    }

    /// <summary>Writes <paramref name="directory"/>'s manifest rebuilt from its collection directories (to be verified by the caller).</summary>
    public static void Rebuild(string directory)
    {
        string manifestPath = Path.Combine(directory, Manifest.FileName);
        if (File.Exists(manifestPath))
            throw new InvalidArgumentException($"{manifestPath} exists, so recover leaves it alone; if opening the database refuses it as damaged, "
                + "move it aside (keep it) and run recover again to rebuild it from the collection directories, or restore it from a backup");
        string collections = Path.Combine(directory, "collections");
        var dirs = System.IO.Directory.Exists(collections) ? System.IO.Directory.GetDirectories(collections).Order(StringComparer.Ordinal).ToArray() : [];
        if (dirs.Length == 0) throw new InvalidArgumentException($"{directory} holds no collection directories: there is nothing to recover");
        var body = new ManifestBody();
        foreach (var dir in dirs)
        {
            var settings = CollectionDescriptor.Read(dir);
            if (settings.Directory != Path.GetFileName(dir))
                throw new StoreCorruptedException(Path.Combine(dir, CollectionDescriptor.FileName),
                    $"the descriptor names directory '{settings.Directory}', but it lies in '{Path.GetFileName(dir)}'");
            body.Collections.Add(WithNewestSnapshot(dir, settings));
        }
        Manifest.Write(directory, body);
    }

    private static ManifestCollection WithNewestSnapshot(string dir, ManifestCollection settings)
    {
        var snapshots = System.IO.Directory.EnumerateFiles(dir, "snap-*.vss")
            .Select(f => (Path: f, Sequence: long.TryParse(Path.GetFileName(f)[5..^4], NumberStyles.None, CultureInfo.InvariantCulture, out long s) ? s : -1))
            .Where(s => s.Sequence >= 0)
            .OrderByDescending(s => s.Sequence)
            .ToArray();
        // A checkpoint makes the log durable up to its snapshot's address before publishing it: a snapshot past the
        // durable address was never published (a crash between writing it and publishing it).
        string tailPath = Path.Combine(dir, "wal", DurableTail.FileName);
        if (!File.Exists(tailPath)) throw new StoreCorruptedException(tailPath, "durable-tail record is missing; the write-ahead log cannot be trusted");
        TailRecord record;
        using (var tail = DurableTail.OpenRead(tailPath)) record = tail.Read();
        long durable = record.Durable;
        string? damaged = null;
        foreach (var (path, sequence) in snapshots)
        {
            try
            {
                long address = SnapshotFile.VerifiedLogAddress(path, settings.Dimension);
                if (address > durable) continue;
                return settings with { Snapshot = Path.GetFileName(path), SnapshotLogAddress = address, SnapshotSequence = sequence };
            }
            catch (StoreCorruptedException)
            {
                // A damaged newer snapshot: the one before it is what the lost manifest named.
                damaged ??= path;
            }
        }
        // Every checkpoint publishes its snapshot before it truncates the log: a truncated log needs one.
        if (record.Framed && record.BeginPoint.Sequence > LogFraming.Point.Start.Sequence)
            throw new StoreCorruptedException(damaged ?? tailPath,
                $"no snapshot of collection '{settings.Name}' verifies{(damaged is null ? "" : " (this one is damaged)")}, and its log was truncated after one: " +
                "the records before the log's begin are lost; restore MANIFEST and the collection from a backup");
        // None was published: the whole log is replayed.
        return settings;
    }
}
