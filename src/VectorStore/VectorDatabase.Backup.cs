using VectorStore.Storage;

namespace VectorStore;

/// <summary>Online backup: a copy of a serving database that opens on its own.</summary>
public sealed partial class VectorDatabase
{
    /// <summary>
    /// Writes a backup of the database into <paramref name="directory"/> while it keeps serving: a database directory
    /// that <see cref="Open(string, DatabaseOptions?)"/> opens like any other (on another machine too). Each collection
    /// is copied as of a checkpoint taken when the backup reaches it, so the copy holds every write acknowledged before
    /// this call began (and perhaps some acknowledged during it); collections are copied one after another, not as of
    /// one instant. The copy has no write-ahead log to replay and no files a checkpoint has retired: it is as large as
    /// the data, not as the source directory. With <see cref="BackupOptions.Since"/> it is incremental: files a previous
    /// backup holds unchanged are hard-linked instead of copied (<see cref="BackupResult.LinkedBytes"/>).
    /// </summary>
    /// <remarks>
    /// Writers and searches go on meanwhile; each collection's background checkpoints wait while its files are copied.
    /// Every snapshot's checksum is verified on the way; to prove the whole copy, open it with
    /// <see cref="OpenReadOnly(string, DatabaseOptions?)"/> (<c>vectorstore backup --verify</c> does). A new directory
    /// is written as a hidden sibling (<c>.NAME.partial-…</c>) and renamed into place only when complete; an existing
    /// empty one (a mount point, say) is written inside (<c>.backup-partial-…</c>) and its manifest moved in last, so an
    /// open refuses it until then. Either way a crash or an error never leaves something under
    /// <paramref name="directory"/> that opens as a smaller database (a crash may leave the hidden directory, which may
    /// be deleted). Each collection's copy must leave the database's free-space reserve
    /// (<see cref="DatabaseOptions.MinFreeDiskBytes"/>) on the backup's file system, or it is refused before it is written. Collections set aside as damaged at open are left
    /// out and listed in <see cref="BackupResult.SkippedDamaged"/>; a collection dropped before the backup has copied it
    /// is left out (a drop waits at most for the file being copied). A collection stopped by a failed write
    /// (<see cref="CollectionFaultedException"/>) is reopened from its files first, as its next call would be.
    /// Thread-safe; concurrent backups of one database copy each collection one after the other.
    /// </remarks>
    /// <exception cref="InvalidArgumentException">
    /// <paramref name="directory"/> is empty, exists and is not an empty directory, or lies inside this database's
    /// directory; the database is in memory; <see cref="BackupOptions.Since"/> is not a database directory, or is the
    /// target or this database.
    /// </exception>
    /// <exception cref="ReadOnlyDatabaseException">The database is open read-only (a backup checkpoints each collection).</exception>
    /// <exception cref="StorageIoException">Reading the database or writing the backup failed (<see cref="StorageFullException"/> when out of space); nothing is left at <paramref name="directory"/>.</exception>
    public BackupResult Backup(string directory, BackupOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(directory);
        options ??= new BackupOptions();
        options.Validate();
        if (string.IsNullOrWhiteSpace(directory)) throw new InvalidArgumentException("the backup directory is empty");
        if (Directory is null)
            throw new InvalidArgumentException("an in-memory database has no files to back up; open a database directory (VectorDatabase.Open) to keep and back up data");
        ThrowIfReadOnly("a backup (it checkpoints each collection first)");
        ThrowIfClosedUnderGate();
        string target = CheckBackupTarget(directory);
        var since = options.Since is { } previous ? PreviousBackup(previous, target) : null;
        string parent = Path.GetDirectoryName(target) ?? throw new InvalidArgumentException($"{target}: a backup cannot be a file system's root");
        // An existing (empty) directory may be a mount point, which a rename cannot replace: the backup is then written
        // inside it and moved into place there, the manifest last. Otherwise beside it, renamed into place whole.
        bool inPlace = System.IO.Directory.Exists(target);
        string partial = inPlace ? Path.Combine(target, $".backup-partial-{Guid.NewGuid():N}") : Path.Combine(parent, $".{Path.GetFileName(target)}.partial-{Guid.NewGuid():N}");
        bool movedCollections = false, movedManifest = false, renamed = false;
        try
        {
            // The marker first: a partial directory without one is only ever empty (RemoveStalePartials deletes those).
            System.IO.Directory.CreateDirectory(partial);
            using var marker = WritePartialMarker(partial);
            System.IO.Directory.CreateDirectory(Path.Combine(partial, "collections"));
            var entries = new List<ManifestCollection>();
            var copied = new List<BackedUpCollection>();
            string[] names, damaged;
            lock (_gate)
            {
                ThrowIfClosed();
                names = [.. _stores.Keys.Order(StringComparer.Ordinal)];
                damaged = [.. _damaged.Keys.Order(StringComparer.Ordinal)];
            }
            foreach (string name in names)
            {
                cancellationToken.ThrowIfCancellationRequested();
                string? linkFrom = since is not null && since.TryGetValue(name, out var dir) ? dir : null;
                if (CopyCollection(name, partial, target, linkFrom, cancellationToken) is not { } copy) continue;
                entries.Add(copy.Entry);
                copied.Add(new BackedUpCollection(name, copy.Count, copy.Bytes, copy.LinkedBytes));
            }
            Manifest.Write(partial, new ManifestBody { Collections = entries });
            FileDurability.FsyncDirectory(Path.Combine(partial, "collections"));
            FileDurability.FsyncDirectory(partial);
            cancellationToken.ThrowIfCancellationRequested();
            if (inPlace)
            {
                // Until MANIFEST arrives, an open refuses the directory (collections without a manifest, §4.6): a
                // crash in between never leaves something that opens as a smaller database.
                System.IO.Directory.Move(Path.Combine(partial, "collections"), Path.Combine(target, "collections"));
                movedCollections = true;
                FileDurability.FsyncDirectory(target);
                File.Move(Path.Combine(partial, Manifest.FileName), Path.Combine(target, Manifest.FileName));
                movedManifest = true;
                // Deleted while still held: unlocked first, a backup starting meanwhile could take the copy for a stale one.
                File.Delete(Path.Combine(partial, PartialBackupMarker));
                marker.Dispose();
                System.IO.Directory.Delete(partial);
                FileDurability.FsyncDirectory(target);
            }
            else
            {
                // Whole now: the marker goes before the rename makes it the backup.
                File.Delete(Path.Combine(partial, PartialBackupMarker));
                marker.Dispose();
                FileDurability.FsyncDirectory(partial);
                try
                {
                    System.IO.Directory.Move(partial, target);
                    renamed = true;
                }
                catch (IOException) when (System.IO.Directory.Exists(target) || File.Exists(target))
                {
                    throw new InvalidArgumentException($"{target}: exists now (another backup of this name finished first); a backup never writes over anything, so give a new or empty directory");
                }
                FileDurability.FsyncDirectory(parent);
            }
            return new BackupResult(target, copied, damaged);
        }
        catch (Exception e)
        {
            // Says what is left, as it is: on a read-only file system the partial copy was never created.
            string left;
            try
            {
                bool hadPartial = System.IO.Directory.Exists(partial);
                if (renamed)
                {
                    // Whole and in place; only the parent directory's fsync failed, so a crash could still lose its name.
                    left = $"the backup at {target} is complete, but its directory entry may not be durable: back up again to be sure";
                }
                else
                {
                    if (hadPartial) System.IO.Directory.Delete(partial, recursive: true);
                    if (movedManifest) File.Delete(Path.Combine(target, Manifest.FileName));
                    if (movedCollections) System.IO.Directory.Delete(Path.Combine(target, "collections"), recursive: true);
                    left = hadPartial || movedCollections ? $"nothing was left there; the partial copy {partial} was deleted" : "nothing was written";
                }
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                left = $"the partial copy {partial} could not be deleted ({cleanup.Message}); delete it by hand";
            }
            if (e is IOException or UnauthorizedAccessException)
                throw FileSpace.Failure(e, target, $"writing the backup ({left})");
            throw;
        }
    }

    /// <summary>
    /// The file that marks a backup still being written (data-format §4.15): a backup killed part-way leaves its hidden
    /// partial directory, which may lack collections; rebuilding its manifest with <see cref="RecoverManifest"/> made
    /// it open as a smaller database without a word.
    /// </summary>
    internal const string PartialBackupMarker = "BACKUP-PARTIAL";

    /// <summary>
    /// Writes the marker and returns it held (shared for deletion only): while the backup runs its lock says so, and a later
    /// backup to the same place deletes only partial directories whose marker nobody holds (<see cref="RemoveStalePartials"/>).
    /// </summary>
    private static FileStream WritePartialMarker(string partial)
    {
        // Shared for deletion only (so it can be deleted while held, on Windows too); a lock no other open can share.
        var file = new FileStream(Path.Combine(partial, PartialBackupMarker), FileMode.CreateNew, FileAccess.Write, FileShare.Delete);
        try
        {
            file.Write("an incomplete backup: delete this directory\n"u8);
            file.Flush(flushToDisk: true);
            FileDurability.FsyncDirectory(partial);
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Deletes what killed backups to <paramref name="target"/> left: hidden partial directories beside it
    /// (<c>.NAME.partial-…</c>) or inside it (<c>.backup-partial-…</c>) that hold a marker no running backup holds.
    /// They piled up (a user pass left 270 MB in four kills), and one inside an empty target (a mount point) made every
    /// retry fail with "exists and is not empty". Best effort: what cannot be deleted stays, as before.
    /// </summary>
    private static void RemoveStalePartials(string target)
    {
        try
        {
            string? parent = Path.GetDirectoryName(target);
            var candidates = new List<string>();
            if (parent is not null && System.IO.Directory.Exists(parent))
                candidates.AddRange(System.IO.Directory.EnumerateDirectories(parent, $".{Path.GetFileName(target)}.partial-*"));
            if (System.IO.Directory.Exists(target)) candidates.AddRange(System.IO.Directory.EnumerateDirectories(target, ".backup-partial-*"));
            foreach (string dir in candidates)
            {
                try
                {
                    // Empty: a backup killed between creating it and its marker.
                    if (!System.IO.Directory.EnumerateFileSystemEntries(dir).Any())
                    {
                        System.IO.Directory.Delete(dir);
                        continue;
                    }
                    // Missing (not a partial of this release: left alone) or held (a backup is writing it) both throw.
                    using (new FileStream(Path.Combine(dir, PartialBackupMarker), FileMode.Open, FileAccess.Read, FileShare.None)) { }
                    System.IO.Directory.Delete(dir, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { }
    }

    /// <summary>Refuses a directory that is an interrupted backup's partial copy (it holds the marker).</summary>
    internal static void ThrowIfPartialBackup(string dir)
    {
        string marker = Path.Combine(dir, PartialBackupMarker);
        if (File.Exists(marker))
            throw new StoreCorruptedException(marker, "this directory is an incomplete backup: the backup writing it stopped before it finished, so it "
                + "may lack collections and must not be opened or recovered; delete it and run the backup again");
    }

    /// <inheritdoc cref="Backup(string, BackupOptions?, CancellationToken)"/>
    public Task<BackupResult> BackupAsync(string directory, BackupOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Backup(directory, options, cancellationToken), cancellationToken);

    /// <summary>
    /// Copies collection <paramref name="name"/> into the backup being written in <paramref name="backup"/> (for
    /// <paramref name="target"/>, the directory errors name), hard-linking what <paramref name="linkFrom"/> (its directory
    /// in a previous backup) holds unchanged; null when it was dropped before or while it was copied (its partial copy
    /// removed).
    /// </summary>
    private (ManifestCollection Entry, int Count, long Bytes, long LinkedBytes)? CopyCollection(string name, string backup, string target, string? linkFrom, CancellationToken cancellationToken)
    {
        // A collection reopened after a fault gets a new store; the copy then starts again on it.
        for (int attempt = 0; ; attempt++)
        {
            if (attempt > 5) throw new UnavailableException($"collection '{name}' kept stopping or closing while the backup tried to copy it; nothing was left at the backup's directory");
            CollectionStore? store;
            lock (_gate)
            {
                while (_reopening.Contains(name)) Monitor.Wait(_gate);
                ThrowIfClosed();
                if (!_collections.TryGetValue(name, out var collection)) return null;
                // A collection stopped by a failed write is reopened from its files, as its next call would do: a
                // nightly backup must not fail on it until some client happens to ask for it.
                if (collection.Faulted) store = null;
                else if (!_stores.TryGetValue(name, out store)) return null;
            }
            if (store is null)
            {
                // Reopens it (or, when a reopen failed moments ago, returns the stopped object, whose error says why).
                var reopened = GetCollection(name);
                if (reopened.Faulted) reopened.ThrowIfFaulted();
                continue;
            }
            string into = Path.Combine(backup, "collections", store.Entry.Directory);
            try
            {
                return store.CopyTo(into, target, linkFrom, cancellationToken);
            }
            catch (ObjectDisposedException) when (attempt < 3)
            {
                if (System.IO.Directory.Exists(into)) System.IO.Directory.Delete(into, recursive: true);
                ThrowIfClosedUnderGate();
            }
        }
    }

    private void ThrowIfClosedUnderGate()
    {
        lock (_gate) ThrowIfClosed();
    }

    /// <summary>
    /// Each collection's directory in the previous backup <paramref name="since"/>, by name: it must be a database
    /// directory (a manifest that reads) other than <paramref name="target"/> and this database.
    /// </summary>
    private Dictionary<string, string> PreviousBackup(string since, string target)
    {
        string full;
        ManifestBody? manifest;
        try
        {
            full = Path.GetFullPath(since);
            if (File.Exists(full)) throw new InvalidArgumentException($"{full}: is a file; BackupOptions.Since names a previous backup's directory");
            if (!System.IO.Directory.Exists(full)) throw new InvalidArgumentException($"{full}: no such directory (BackupOptions.Since names a previous backup)");
            if (Path.TrimEndingDirectorySeparator(full) == Path.TrimEndingDirectorySeparator(target))
                throw new InvalidArgumentException($"{full}: the previous backup cannot be the new backup's directory");
            // The live database is no backup: what it shares with one must be a copy made earlier, not its own files.
            if (FileDurability.IsWithin(full, Directory!))
                throw new InvalidArgumentException($"{full}: is this database's own directory; BackupOptions.Since names a previous backup");
            manifest = Manifest.Read(full);
        }
        catch (ArgumentException e)
        {
            throw new InvalidArgumentException($"'{since}' is not a usable directory path: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw FileSpace.Failure(e, since, "reading the previous backup");
        }
        catch (StoreCorruptedException e)
        {
            throw new InvalidArgumentException($"the previous backup cannot be read: {e.Message}");
        }
        if (manifest is null) throw new InvalidArgumentException($"{full}: holds no database (MANIFEST missing), so it is not a previous backup");
        return manifest.Collections.ToDictionary(c => c.Name, c => Path.Combine(full, "collections", c.Directory), StringComparer.Ordinal);
    }

    /// <summary>The backup's full path: a new or empty directory outside the database's own (typed errors otherwise).</summary>
    private string CheckBackupTarget(string directory)
    {
        string target;
        try
        {
            target = Path.GetFullPath(directory);
            RemoveStalePartials(target);
            CheckBackupTargetAt(target);
        }
        catch (ArgumentException e)
        {
            throw new InvalidArgumentException($"'{directory}' is not a usable directory path: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw FileSpace.Failure(e, directory, "checking the backup directory");
        }
        return target;
    }

    private void CheckBackupTargetAt(string target)
    {
        // Room for the hidden ".NAME.partial-<32 hex>" sibling within a file name's 255 bytes.
        if (System.Text.Encoding.UTF8.GetByteCount(Path.GetFileName(target)) > 200)
            throw new InvalidArgumentException($"{target}: the backup directory's name is longer than 200 bytes");
        if (File.Exists(target)) throw new InvalidArgumentException($"{target}: is a file; a backup needs a new or empty directory");
        if (System.IO.Directory.Exists(target) && System.IO.Directory.EnumerateFileSystemEntries(target).Any())
            throw new InvalidArgumentException($"{target}: exists and is not empty; a backup never writes over anything, so give a new or empty directory");
        // Real paths: a symbolic link to the database must not get a backup inside it (a stray directory under
        // collections/ breaks a manifest's recovery).
        if (FileDurability.IsWithin(target, Directory!))
            throw new InvalidArgumentException($"{target}: lies inside the database directory {Directory}; a backup goes elsewhere (another disk, ideally)");
    }
}
