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
        string lockPath = Path.Combine(dir, LockFileName);
        try
        {
            _lockFile = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new VectorStoreException($"{lockPath}: the database is open in another process", e);
        }
        var manifest = Manifest.Read(dir);
        if (manifest is null)
        {
            ThrowIfManifestLost(dir);
            string collections = Path.Combine(dir, "collections");
            System.IO.Directory.CreateDirectory(collections);
            Manifest.Write(dir, _manifest);
            return;
        }
        _manifest = manifest;
        foreach (var entry in manifest.Collections.ToArray()) _collections.Add(entry.Name, OpenStored(entry));
    }

    /// <summary>Opens the collection <paramref name="entry"/> describes from its files and registers its store.</summary>
    private Collection OpenStored(ManifestCollection entry)
    {
        var options = ToOptions(entry);
        string cdir = Path.Combine(Directory!, "collections", entry.Directory);
        var store = CollectionStore.Open(cdir, entry, _storage, Publish);
        Collection? c = null;
        try
        {
            // Collections created before descriptors existed get theirs now, so a lost manifest can be rebuilt.
            CollectionDescriptor.EnsureWritten(cdir, entry);
            _stores.Add(entry.Name, store);
            c = new Collection(entry.Name, options, store, Options.Threads, cdir);
            store.Recover(c);
            Adopt(c);
            c.AfterRecovery(writable: true);
            return c;
        }
        catch
        {
            // Nothing of a failed open stays registered or open: a reopen retried later opens the same files again.
            c?.Close();
            if (_stores.TryGetValue(entry.Name, out var registered) && ReferenceEquals(registered, store)) _stores.Remove(entry.Name);
            store.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Replaces <paramref name="faulted"/> (see <see cref="CollectionFaultedException"/>) with a copy recovered from
    /// its files: its store closes without a checkpoint (the faulted memory must never reach a snapshot), and the
    /// collection opens as at start-up, replaying the log past its last snapshot. If that fails too (out of memory
    /// again, say), the faulted collection stays registered, so the next call tries again. Caller holds the gate.
    /// </summary>
    private Collection ReopenFaulted(Collection faulted)
    {
        string name = faulted.Name;
        if (_stores.Remove(name, out var old)) old.Dispose();
        faulted.Close();
        ManifestCollection entry;
        lock (_manifestGate) entry = _manifest.Collections.First(e => e.Name == name);
        // Unregistered while the copy opens, so the collector may take the stopped one's memory if the open needs it.
        _collections.Remove(name);
        try
        {
            var c = OpenStored(entry);
            _collections.Add(name, c);
            _reopenNotBefore.Remove(name);
            return c;
        }
        catch
        {
            _collections.Add(name, faulted);
            _reopenNotBefore[name] = Environment.TickCount64 + (long)ReopenRetryDelay.TotalMilliseconds;
            throw;
        }
    }

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
        var manifest = Manifest.Read(dir);
        if (manifest is null)
        {
            ThrowIfManifestLost(dir);
            throw new InvalidArgumentException($"{dir}: not a database (no {Manifest.FileName})");
        }
        // A shared lock: read-only opens coexist, a read-write open (exclusive) is refused while they hold it. A
        // directory without a lock file (copied without it) is opened unlocked rather than written to.
        string lockPath = Path.Combine(dir, LockFileName);
        if (File.Exists(lockPath))
        {
            try
            {
                _lockFile = new FileStream(lockPath, FileMode.Open, FileAccess.Read, FileShare.Read);
            }
            catch (IOException e)
            {
                throw new VectorStoreException($"{lockPath}: the database is open for writing in another process", e);
            }
        }
        _manifest = manifest;
        foreach (var entry in manifest.Collections)
        {
            string cdir = Path.Combine(dir, "collections", entry.Directory);
            var journal = new ReadOnlyCollectionStore(cdir, dir);
            var c = new Collection(entry.Name, ToOptions(entry), journal, Options.Threads, cdir);
            try
            {
                journal.Recover(c, entry, _storage.Wal);
                c.AfterRecovery(writable: false);
            }
            catch
            {
                c.Close();
                throw;
            }
            _collections.Add(entry.Name, c);
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
            $"(verified by their checksums) with 'vectorstore recover --db {dir}' (VectorDatabase.RecoverManifest), or restore MANIFEST from a backup");
    }

    /// <summary>
    /// Rebuilds the lost MANIFEST of the database in <paramref name="directory"/> from its collection directories:
    /// each collection's settings from its descriptor file, its newest snapshot whose checksum verifies; then opens
    /// the database read-only to verify everything (snapshots, segments, every log entry). Returns each recovered
    /// collection's name and vector count. Refuses (<see cref="InvalidArgumentException"/>) when a MANIFEST exists or
    /// there are no collections; a collection without a descriptor (created by an older version and never opened by
    /// this one) or data that does not verify is a <see cref="StoreCorruptedException"/> naming the file, and the
    /// directory is left as it was.
    /// </summary>
    public static IReadOnlyDictionary<string, int> RecoverManifest(string directory)
    {
        string dir = Path.GetFullPath(directory);
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

    private static CollectionOptions ToOptions(ManifestCollection e) => new()
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
            var other => throw new StoreCorruptedException(Manifest.FileName, $"collection '{e.Name}': raw_vectors '{other}' is not disk or ram"),
        },
        Fields = e.Fields is null ? null : ParseFields(e),
        Refine = e.Refine,
    };

    private static FieldDefinition[] ParseFields(ManifestCollection e)
    {
        try
        {
            var fields = e.Fields!.Select(FieldDefinition.Parse).ToArray();
            FieldDefinition.ValidateAll(fields);
            return fields;
        }
        catch (InvalidArgumentException x)
        {
            throw new StoreCorruptedException(Manifest.FileName, $"collection '{e.Name}': {x.Message}");
        }
    }

    private Collection CreatePersistent(string name, CollectionOptions options)
    {
        options.Validate();
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
        var store = CollectionStore.Create(Path.Combine(Directory!, "collections", entry.Directory), entry, _storage, Publish);
        var c = new Collection(name, options, store, Options.Threads, store.Directory);
        store.Recover(c);
        _stores.Add(name, store);
        lock (_manifestGate)
        {
            _manifest.Collections.Add(entry);
            WriteManifest();
        }
        return c;
    }

    private void DropPersistent(string name)
    {
        // No store when a stopped collection's reopening failed (ReopenFaulted closed it already).
        _stores.Remove(name, out var store);
        ManifestCollection? entry;
        lock (_manifestGate)
        {
            entry = _manifest.Collections.Find(e => e.Name == name);
            _manifest.Collections.RemoveAll(e => e.Name == name);
            WriteManifest();
        }
        store?.Dispose();
        string? dir = store?.Directory ?? (entry is null ? null : Path.Combine(Directory!, "collections", entry.Directory));
        if (dir is not null && System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, recursive: true);
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

    private void WriteManifest() => Manifest.Write(Directory!, _manifest);

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
            ObjectDisposedException.ThrowIf(_closed, this);
            // A stopped collection (CollectionFaultedException) cannot be snapshotted; its log holds all it has.
            return _stores.Where(p => !(skipFaulted && _collections.TryGetValue(p.Key, out var c) && c.Faulted)).Select(p => p.Value).ToArray();
        }
    }

    /// <summary>Bytes the collection occupies on disk (snapshot and log files); 0 in memory.</summary>
    public long DiskBytes(string name)
    {
        lock (_gate)
        {
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
            store.Dispose();
        }
        _stores.Clear();
        foreach (var c in _collections.Values) c.Close();
        _lockFile?.Dispose();
        if (first is not null) throw new VectorStoreException($"{Directory}: closing failed: {first.Message}", first);
    }
}
