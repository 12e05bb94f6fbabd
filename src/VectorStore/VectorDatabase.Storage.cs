using VectorStore.Filtering;
using VectorStore.Collections;
using VectorStore.Storage;

namespace VectorStore;

/// <summary>The persistent side of a database directory: manifest, per-collection stores, lock file.</summary>
public sealed partial class VectorDatabase
{
    private const string LockFileName = "LOCK";
    private readonly Dictionary<string, CollectionStore> _stores = new(StringComparer.Ordinal);
    private ManifestBody _manifest = new();
    // Guards _manifest and the MANIFEST file; taken after _gate when both are needed (never the other way round).
    private readonly object _manifestGate = new();
    private StorageSettings _storage = new();
    private FileStream? _lockFile;
    private bool _closed;

    private void OpenStorage(StorageSettings storage)
    {
        _storage = storage;
        string dir = Directory!;
        ThrowIfPartialBackup(dir);
        _lockFile = OpenLockFile(Path.Combine(dir, LockFileName), writing: true);
        var manifest = Manifest.Read(dir);
        if (manifest is null)
        {
            ThrowIfManifestLost(dir);
            string collections = Path.Combine(dir, "collections");
            System.IO.Directory.CreateDirectory(collections);
            WriteManifest();
            return;
        }
        _manifest = manifest;
        foreach (var entry in manifest.Collections.ToArray()) OpenOrSetAside(entry, OpenStored);
    }

    /// <summary>
    /// Opens <c>LOCK</c> with an exclusive lock (<paramref name="writing"/>) or a shared one. Only a lock another open
    /// holds is reported as such: a read-only file system or a directory the process may not write used to be reported
    /// as another process's lock too; they are storage errors naming the file and the system's reason.
    /// </summary>
    private static FileStream OpenLockFile(string lockPath, bool writing)
    {
        try
        {
            return writing
                ? new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None)
                : new FileStream(lockPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (IOException e) when (IsLockHeld(e))
        {
            // The lock is per open file, not per process: an open VectorDatabase of this process holds it just the same.
            throw new VectorStoreException($"{lockPath}: the database is open {(writing ? "" : "for writing ")}elsewhere (in another process, or by another open in this one)", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw FileSpace.Failure(e, lockPath, writing ? "opening the database for writing" : "opening the database for reading");
        }
    }

    /// <summary>
    /// Whether opening <c>LOCK</c> failed because another open holds its lock: .NET reports a held lock as the system's
    /// EWOULDBLOCK (11) on Unix-like systems and as a sharing or lock violation on Windows.
    /// </summary>
    internal static bool IsLockHeld(IOException e) =>
        OperatingSystem.IsWindows() ? e.HResult is unchecked((int)0x80070020) or unchecked((int)0x80070021) : e.HResult is 11 or 35; // EWOULDBLOCK: Linux, macOS

    /// <summary>Opens the collection <paramref name="entry"/> describes from its files and registers its store.</summary>
    private Collection OpenStored(ManifestCollection entry)
    {
        var (c, store) = OpenFromFiles(entry);
        _stores.Add(entry.Name, store);
        return c;
    }

    /// <summary>
    /// Opens the collection <paramref name="entry"/> describes, with this database's instruments, replaying its log
    /// past the last snapshot; registers nothing (at start-up and when a stopped collection is reopened, outside the
    /// gate). Nothing of a failed open stays open: a reopen retried later opens the same files again.
    /// </summary>
    private (Collection Collection, CollectionStore Store) OpenFromFiles(ManifestCollection entry)
    {
        string cdir = CollectionDirectory(entry);
        var store = CollectionStore.Open(cdir, entry, _storage, Publish);
        Collection? c = null;
        try
        {
            // Collections created before descriptors existed get theirs now, so a lost manifest can be rebuilt.
            CollectionDescriptor.EnsureWritten(cdir, entry);
            store.Instruments = _telemetry;
            c = new Collection(entry.Name, ToOptions(entry), store, Options.Threads, cdir) { Instruments = _telemetry };
            store.Recover(c);
            c.AfterRecovery(writable: true);
            return (c, store);
        }
        catch
        {
            try { c?.Close(); }
            finally { store.Dispose(); }
            throw;
        }
    }

    /// <summary>
    /// First step of a reopen: closes <paramref name="faulted"/> (see <see cref="CollectionFaultedException"/>) and its
    /// store without a checkpoint (the faulted memory must never reach a snapshot); returns its manifest entry. It stays
    /// registered, so other callers get it (and its typed error) while <see cref="ReopenFaulted"/> runs. Caller holds
    /// the gate and has added the name to <see cref="_reopening"/>.
    /// </summary>
    private ManifestCollection CloseFaulted(Collection faulted)
    {
        try
        {
            if (_stores.Remove(faulted.Name, out var old)) old.Dispose();
            faulted.Close();
            lock (_manifestGate) return _manifest.Collections.First(e => e.Name == faulted.Name);
        }
        catch
        {
            EndReopen(faulted.Name, failed: true);
            throw;
        }
    }

    /// <summary>
    /// Replaces <paramref name="faulted"/> with a copy recovered from its files, opened as at start-up (replaying the
    /// log past its last snapshot) outside the gate, so a long replay holds up no other collection. If that fails too
    /// (out of memory again, say), the faulted collection stays registered and the next call, after
    /// <see cref="ReopenRetryDelay"/>, tries again. A database closed meanwhile gets nothing: the copy is closed.
    /// </summary>
    private Collection ReopenFaulted(Collection faulted, ManifestCollection entry)
    {
        string name = faulted.Name;
        bool registered = false;
        try
        {
            DuringReopenForTests?.Invoke(name);
            var (fresh, store) = OpenFromFiles(entry);
            try
            {
                lock (_gate)
                {
                    // Drops wait for the reopen, so only a close can have come in between.
                    if (_closed || !(_collections.TryGetValue(name, out var current) && ReferenceEquals(current, faulted)))
                        throw new ObjectDisposedException(nameof(VectorDatabase), $"the database closed while collection '{name}' was being reopened");
                    _stores.Add(name, store);
                    _collections[name] = fresh;
                    registered = true;
                    return fresh;
                }
            }
            finally
            {
                if (!registered)
                {
                    try { fresh.Close(); }
                    finally { store.Dispose(); }
                }
            }
        }
        finally
        {
            // Whatever failed (memory may be short again), the reopen ends exactly once, after its files are closed:
            // a close waiting for it releases the database's lock file only then.
            lock (_gate) EndReopen(name, failed: !registered);
        }
    }

    /// <summary>Ends a reopen and wakes a drop or close waiting for it. Caller holds the gate.</summary>
    private void EndReopen(string name, bool failed)
    {
        try
        {
            if (failed) _reopenNotBefore[name] = Environment.TickCount64 + (long)ReopenRetryDelay.TotalMilliseconds;
            else _reopenNotBefore.Remove(name);
        }
        finally
        {
            _reopening.Remove(name);
            Monitor.PulseAll(_gate);
        }
    }

    // Names of the stopped collections being reopened outside the gate. Under the gate.
    private readonly HashSet<string> _reopening = new(StringComparer.Ordinal);

    /// <summary>Test hook: runs at the start of a reopen, outside the gate, with the collection's name.</summary>
    internal Action<string>? DuringReopenForTests { get; set; }

    /// <summary>
    /// How long after a failed reopen the next one may start: a replay costs a read of the log past the last snapshot,
    /// so a server answering every request with another attempt would spend its memory and time on nothing else.
    /// Meanwhile <see cref="GetCollection"/> returns the stopped collection, whose calls say why.
    /// </summary>
    internal static readonly TimeSpan ReopenRetryDelay = TimeSpan.FromSeconds(2);

    // Collection name → Environment.TickCount64 before which a stopped collection is not reopened again. Under the gate.
    private readonly Dictionary<string, long> _reopenNotBefore = new(StringComparer.Ordinal);

    private bool ReopenDue(string name) => !_reopenNotBefore.TryGetValue(name, out long at) || Environment.TickCount64 >= at;

    private void OpenStorageReadOnly(StorageSettings storage)
    {
        _storage = storage;
        string dir = Directory!;
        ThrowIfPartialBackup(dir);
        var manifest = Manifest.Read(dir);
        if (manifest is null)
        {
            ThrowIfManifestLost(dir);
            throw new InvalidArgumentException($"{dir}: not a database (no {Manifest.FileName})");
        }
        // A shared lock: read-only opens coexist, a read-write open (exclusive) is refused while they hold it. A
        // directory without a lock file (copied without it) is opened unlocked rather than written to.
        string lockPath = Path.Combine(dir, LockFileName);
        if (File.Exists(lockPath)) _lockFile = OpenLockFile(lockPath, writing: false);
        _manifest = manifest;
        foreach (var entry in manifest.Collections) OpenOrSetAside(entry, OpenStoredReadOnly);
    }

    /// <summary>Opens the collection <paramref name="entry"/> describes read-only, replaying its log into memory.</summary>
    private Collection OpenStoredReadOnly(ManifestCollection entry)
    {
        string cdir = CollectionDirectory(entry);
        var journal = new ReadOnlyCollectionStore(cdir, Directory!);
        var c = new Collection(entry.Name, ToOptions(entry), journal, Options.Threads, cdir);
        try
        {
            journal.Recover(c, entry, _storage.Wal);
            c.AfterRecovery(writable: false);
            return c;
        }
        catch
        {
            c.Close();
            throw;
        }
    }

    /// <summary>
    /// Refuses a directory without a MANIFEST that holds collection data: the manifest was lost, not never written (it
    /// is written, atomically, before a collection's first acknowledged write). Opening it as a new database would
    /// hide every collection, and a create of the same name would delete its files.
    /// </summary>
    internal static void ThrowIfManifestLost(string dir)
    {
        string collections = Path.Combine(dir, "collections");
        if (!System.IO.Directory.Exists(collections)) return;
        var names = System.IO.Directory.EnumerateFileSystemEntries(collections).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        if (names.Count == 0) return;
        throw new StoreCorruptedException(Path.Combine(dir, Manifest.FileName),
            $"the manifest is missing but {collections} holds collection data ({string.Join(", ", names.Take(5))}{(names.Count > 5 ? ", …" : "")}); " +
            $"refusing to open it as a new, empty database; no data was changed. Rebuild the manifest from the collection directories " +
            $"(each file checked as an open checks it) with 'vectorstore recover --db {dir}' (VectorDatabase.RecoverManifest), or restore MANIFEST from a backup");
    }

    /// <summary>
    /// Rebuilds the lost MANIFEST of the database in <paramref name="directory"/> from its collection directories:
    /// each collection's settings from its descriptor file, its newest snapshot whose checksum verifies; then opens
    /// the database read-only to verify what an open verifies (snapshots, segments' headers, footers and row tables,
    /// every log entry; vector rows and payloads are checked against their CRCs when read, not here: `backup --verify`
    /// or `export` reads them all). Returns each recovered
    /// collection's name and vector count. Refuses (<see cref="InvalidArgumentException"/>) when a MANIFEST exists,
    /// there are no collections or <paramref name="directory"/> is a file (with <see cref="Open(string, DatabaseOptions?)"/>'s
    /// message); a collection without a descriptor (created by an older version and never opened by this one) or data
    /// that does not verify is a <see cref="StoreCorruptedException"/> naming the file, and the directory is left as it was.
    /// </summary>
    public static IReadOnlyDictionary<string, int> RecoverManifest(string directory)
    {
        ThrowIfAFile(directory);
        string dir = Path.GetFullPath(directory);
        ThrowIfPartialBackup(dir);
        ManifestRecovery.Rebuild(dir);
        try
        {
            using var db = OpenReadOnly(dir);
            return db.CollectionNames.ToDictionary(n => n, n => db.GetCollection(n).Count);
        }
        catch
        {
            ManifestRecovery.Discard(dir);
            throw;
        }
    }

    // Errors name the manifest by its full path, as every other refusal names its file.
    private string ManifestPath => Path.Combine(Directory!, Manifest.FileName);

    /// <summary>Where the collection <paramref name="entry"/> describes keeps its files.</summary>
    private string CollectionDirectory(ManifestCollection entry) => Path.Combine(Directory!, "collections", entry.Directory);

    private CollectionOptions ToOptions(ManifestCollection e) => new()
    {
        Dimension = e.Dimension,
        Metric = MetricExtensions.Parse(e.Metric),
        Compression = e.Compression,
        Index = e.Index,
        TrainingThreshold = e.TrainingThreshold,
        MaxTrainingSample = e.MaxTrainingSample,
        Seed = e.Seed,
        // Manifest version 1 (the previous release) had no field: its collections migrate to the new default.
        RawVectors = e.RawVectors switch
        {
            null or "disk" => RawVectorResidency.Disk,
            "ram" => RawVectorResidency.Ram,
            var other => throw new StoreCorruptedException(ManifestPath, $"collection '{e.Name}': raw_vectors '{other}' is not disk or ram"),
        },
        Fields = e.Fields is null ? null : ParseFields(e),
        Refine = e.Refine,
    };

    private FieldDefinition[] ParseFields(ManifestCollection e)
    {
        try
        {
            var fields = e.Fields!.Select(FieldDefinition.Parse).ToArray();
            FieldDefinition.ValidateAll(fields);
            return fields;
        }
        catch (InvalidArgumentException x)
        {
            throw new StoreCorruptedException(ManifestPath, $"collection '{e.Name}': {x.Message}");
        }
    }

    /// <summary>Creates a collection's files and manifest entry; the caller has validated <paramref name="options"/> (ValidateNew).</summary>
    private Collection CreatePersistent(string name, CollectionOptions options)
    {
        var entry = new ManifestCollection
        {
            Name = name,
            Directory = name,
            Dimension = options.Dimension,
            Metric = options.Metric.ToSpec(),
            Compression = options.Compression,
            Index = options.Index,
            TrainingThreshold = options.TrainingThreshold,
            MaxTrainingSample = options.MaxTrainingSample,
            Seed = options.Seed,
            RawVectors = options.RawVectors == RawVectorResidency.Ram ? "ram" : "disk",
            Fields = options.Fields is { Count: > 0 } f ? f.Select(d => d.ToString()).ToList() : null,
            Refine = options.Refine,
        };
        string cdir = CollectionDirectory(entry);
        // A directory of this name is left by a create or drop whose manifest write failed, and the manifest on disk
        // may still name it (the rename done, the directory's fsync not): the manifest is rewritten without it before
        // the directory is replaced, or a failure of this create would leave the manifest naming a directory with no log.
        if (System.IO.Directory.Exists(cdir)) lock (_manifestGate) WriteManifest();
        CollectionStore? store = null;
        Collection? c = null;
        bool listed = false;
        try
        {
            store = CollectionStore.Create(cdir, entry, _storage, Publish);
            c = new Collection(name, options, store, Options.Threads, store.Directory);
            store.Recover(c);
            lock (_manifestGate)
            {
                _manifest.Collections.Add(entry);
                listed = true;
                WriteManifest();
            }
            _stores.Add(name, store);
            return c;
        }
        catch (Exception e)
        {
            // A failed create (a full disk at the manifest, an I/O error) leaves nothing registered or open, so the same
            // name can be created again: the store used to stay registered without its collection, and the retry
            // failed on the duplicate. Its directory goes too, unless the manifest may already name it (the rename
            // done, its directory's fsync failed): then an empty collection is what a restart finds.
            if (listed) lock (_manifestGate) _manifest.Collections.Remove(entry);
            try { c?.Close(); }
            catch (Exception closing) { System.Diagnostics.Trace.TraceWarning($"{cdir}: closing after a failed create failed: {closing.Message}"); }
            Closing.All($"{cdir}: after a failed create", store);
            if (!listed)
            {
                try { System.IO.Directory.Delete(cdir, recursive: true); }
                catch (Exception deleting) when (deleting is IOException or UnauthorizedAccessException) { } // the next create of the name replaces it
            }
            if (e is IOException or UnauthorizedAccessException) throw FileSpace.Failure(e, cdir, $"creating collection '{name}'");
            throw;
        }
    }

    /// <summary>
    /// Removes <paramref name="name"/> from the manifest first: when that write fails, nothing has changed (the entry is
    /// put back, the collection stays open and registered) and the typed error goes to the caller, who may retry.
    /// </summary>
    private string? UnlistPersistent(string name)
    {
        lock (_manifestGate)
        {
            int at = _manifest.Collections.FindIndex(e => e.Name == name);
            if (at < 0) return null;
            var entry = _manifest.Collections[at];
            _manifest.Collections.RemoveAt(at);
            try { WriteManifest(); }
            catch
            {
                _manifest.Collections.Insert(at, entry);
                throw;
            }
            return CollectionDirectory(entry);
        }
    }

    /// <summary>After <see cref="UnlistPersistent"/>: closes the collection's store and deletes its directory, <paramref name="directory"/> (the store's when null).</summary>
    private void DropPersistent(string name, string? directory)
    {
        // No store when a stopped collection's reopening failed (ReopenFaulted closed it already).
        _stores.Remove(name, out var store);
        // The directory goes even when closing the store fails: the manifest no longer names it.
        var closing = Closing.All($"dropping collection '{name}'", store);
        string? dir = directory ?? store?.Directory;
        try
        {
            if (dir is not null && System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageIoException(dir!, $"collection '{name}' is dropped (the manifest no longer lists it), but its directory could not be deleted "
                + $"({e.Message}); delete it by hand, or create the name again, which replaces it", e);
        }
        Closing.ThrowIfFailed(closing);
    }

    /// <summary>
    /// Replaces a collection's manifest entry (after a snapshot) and writes the manifest durably. Takes only the
    /// manifest's own gate, never <c>_gate</c>: a background checkpoint publishes while a closing or dropping thread
    /// holds <c>_gate</c> and waits for that checkpoint.
    /// </summary>
    private void Publish(ManifestCollection entry)
    {
        lock (_manifestGate)
        {
            int i = _manifest.Collections.FindIndex(e => e.Name == entry.Name);
            if (i < 0) return;
            _manifest.Collections[i] = entry;
            WriteManifest();
        }
    }

    /// <summary>Rewrites the manifest; a file-system failure is a typed error naming it (the old manifest stays whole).</summary>
    private void WriteManifest()
    {
        try { Manifest.Write(Directory!, _manifest); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw FileSpace.Failure(e, ManifestPath, "rewriting the manifest");
        }
    }

    /// <summary>
    /// Reclaims the space of deleted and overwritten vectors of <paramref name="name"/>: seals buffered vectors,
    /// rewrites every segment holding a dead row, writes a snapshot and truncates the write-ahead log before it.
    /// No-op for an in-memory database.
    /// </summary>
    public void Compact(string name)
    {
        ThrowIfReadOnly("compaction");
        CollectionStore? store;
        lock (_gate)
        {
            // During a reopen the name has no store yet: compact the reopened copy once it is there.
            while (_reopening.Contains(name)) Monitor.Wait(_gate);
            ThrowIfClosed();
            ThrowIfDamaged(name);
            if (!_collections.ContainsKey(name)) throw new InvalidArgumentException($"collection '{name}' does not exist");
            _stores.TryGetValue(name, out store);
        }
        store?.Checkpoint(compact: true);
    }

    /// <summary>
    /// Makes every write appended so far durable in each collection's log. Acknowledged writes already are, so this
    /// only waits for writes still in flight on other threads; no-op for an in-memory database.
    /// </summary>
    public void Flush()
    {
        foreach (var store in OpenStores()) store.Flush();
    }

    /// <summary>
    /// Writes a snapshot of every collection with changes its current snapshot does not cover, publishes it in the
    /// manifest and truncates the log before it (as <see cref="Compact"/> does per collection), so the next open
    /// replays little. No-op for an in-memory database. Searches and writes continue meanwhile (writers wait only
    /// while a snapshot is being serialized).
    /// </summary>
    public void Snapshot()
    {
        ThrowIfReadOnly("writing a snapshot");
        foreach (var store in OpenStores(skipFaulted: true))
            if (store.Dirty) store.Checkpoint();
    }

    /// <summary>
    /// The stores, copied under the gate so the slow work runs outside it (GetCollection would otherwise wait on
    /// a snapshot). Throws when the database is closed.
    /// </summary>
    private CollectionStore[] OpenStores(bool skipFaulted = false)
    {
        lock (_gate)
        {
            ThrowIfClosed();
            // A stopped collection (CollectionFaultedException) cannot be snapshotted; its log holds all it has.
            return _stores.Where(p => !(skipFaulted && _collections.TryGetValue(p.Key, out var c) && c.Faulted)).Select(p => p.Value).ToArray();
        }
    }

    /// <summary>Bytes the collection occupies on disk (snapshot and log files); 0 in memory.</summary>
    public long DiskBytes(string name)
    {
        lock (_gate)
        {
            // During a reopen the name has no store yet (it would read as 0 bytes): wait for it.
            while (_reopening.Contains(name)) Monitor.Wait(_gate);
            ThrowIfDamaged(name);
            if (!_collections.TryGetValue(name, out var c)) throw new InvalidArgumentException($"collection '{name}' does not exist");
            return _stores.TryGetValue(name, out var store) ? store.DiskBytes() : IsReadOnly ? c.GetStats().DiskBytes : 0;
        }
    }

    internal CollectionStore? StoreOf(string name)
    {
        lock (_gate) return _stores.GetValueOrDefault(name);
    }

    /// <summary>Releases every file handle without a final snapshot, like a killed process (tests only).</summary>
    internal void SimulateCrash()
    {
        lock (_gate) CloseStorage(checkpoint: false);
    }

    private void CloseStorage(bool checkpoint)
    {
        if (_closed) return;
        _closed = true;
        // A reopen in progress has the collection's files open: let it see the close and give them back first (the
        // gate is released while waiting; the reopen closes its copy when it takes the gate again).
        while (_reopening.Count > 0) Monitor.Wait(_gate);
        Exception? first = null;
        foreach (var (name, store) in _stores)
        {
            try
            {
                // A faulted collection's memory is not what its log says: its files stay as they are.
                if (checkpoint && store.Dirty && !(_collections.TryGetValue(name, out var c) && c.Faulted)) store.Checkpoint();
            }
            catch (Exception e)
            {
                first ??= e;
            }
        }
        // Every store, collection and the LOCK file is closed even when one before it fails: a close that stopped at
        // its first failing part kept the rest open, and the directory locked against this process's next open.
        var stores = Closing.All($"closing {Directory}", _stores.Values.ToArray());
        first ??= stores;
        _stores.Clear();
        foreach (var c in _collections.Values)
        {
            try { c.Close(); }
            catch (Exception e) { first ??= e; }
        }
        var lockFile = Closing.All($"closing {Directory}", _lockFile);
        first ??= lockFile;
        if (first is not null) throw new VectorStoreException($"{Directory}: closing failed: {first.Message}", first);
    }
}
