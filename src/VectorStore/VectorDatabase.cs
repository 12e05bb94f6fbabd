using VectorStore.Collections;
using VectorStore.Storage;

namespace VectorStore;

/// <summary>
/// A set of named collections, either in memory or in a database directory. Thread-safe: collections may be
/// created, opened and dropped from any thread.
/// </summary>
public sealed partial class VectorDatabase : IDisposable
{
    private readonly Dictionary<string, Collection> _collections = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    private VectorDatabase(string? directory, DatabaseOptions options)
    {
        if (options.Threads < 0) throw new InvalidArgumentException($"threads must not be negative (0 = all cores), got {options.Threads}");
        Directory = directory;
        Options = options;
        _telemetry = CreateTelemetry();
    }

    /// <summary>The database directory, or null for an in-memory database.</summary>
    public string? Directory { get; }

    /// <summary>Its settings.</summary>
    public DatabaseOptions Options { get; }

    /// <summary>A database that lives only in this process.</summary>
    public static VectorDatabase CreateInMemory(DatabaseOptions? options = null) => new(null, options ?? new DatabaseOptions());

    /// <summary>Opens (creating if needed) the database in <paramref name="directory"/>.</summary>
    /// <remarks>
    /// Every acknowledged write is in the directory's write-ahead log; opening loads each collection's newest
    /// snapshot and replays the log after it. A damaged file, or a directory written by a newer format version,
    /// fails with a <see cref="StoreCorruptedException"/> naming the file. One process at a time may open a directory.
    /// </remarks>
    public static VectorDatabase Open(string directory, DatabaseOptions? options = null) => Open(directory, options, null);

    /// <summary>
    /// Opens the database in <paramref name="directory"/> for searching only: nothing in the directory is written,
    /// created or deleted (no lock-file creation, no checkpoint, no log truncation), any number of read-only opens may
    /// share the directory, and a read-write open elsewhere is refused while they hold it (and vice versa). Writes to
    /// it (upsert, delete, create, drop, compact, snapshot, building an index) throw <see cref="ReadOnlyDatabaseException"/>.
    /// </summary>
    /// <remarks>
    /// Log records the newest snapshot does not cover (a database that was not closed cleanly) are replayed into
    /// memory from the log, read-only; a database closed cleanly or compacted opens from its snapshots and segments
    /// alone and holds no log buffers. This is how a database built on a server is searched on a device.
    /// </remarks>
    public static VectorDatabase OpenReadOnly(string directory, DatabaseOptions? options = null) => OpenReadOnly(directory, options, null);

    internal static VectorDatabase OpenReadOnly(string directory, DatabaseOptions? options, StorageSettings? storage)
    {
        ThrowIfAFile(directory);
        if (!System.IO.Directory.Exists(directory)) throw new InvalidArgumentException($"{directory}: no such database directory");
        var db = new VectorDatabase(Path.GetFullPath(directory), options ?? new DatabaseOptions()) { IsReadOnly = true };
        return db.OpenedWith(() => db.OpenStorageReadOnly(storage ?? new StorageSettings()));
    }

    private static void ThrowIfAFile(string directory)
    {
        if (File.Exists(directory)) throw new InvalidArgumentException($"{directory} is a file, not a database directory");
    }

    /// <summary>
    /// Runs <paramref name="open"/>; on failure releases whatever it opened (no checkpoint) and its instruments, and
    /// rethrows. A caller retrying a refused open would otherwise keep one live meter, holding the refused database, per
    /// attempt; on a factory's shared meter each attempt still leaves its two (now empty) gauges, since a meter cannot
    /// drop an instrument, but they no longer hold the database.
    /// </summary>
    private VectorDatabase OpenedWith(Action open)
    {
        try
        {
            open();
        }
        catch
        {
            try { CloseStorage(checkpoint: false); }
            finally { _telemetry.Dispose(); }
            throw;
        }
        return this;
    }

    /// <summary>Whether the database was opened with <see cref="OpenReadOnly(string, DatabaseOptions?)"/>.</summary>
    public bool IsReadOnly { get; private init; }

    private void ThrowIfReadOnly(string operation)
    {
        if (IsReadOnly) throw new ReadOnlyDatabaseException(Directory!, operation);
    }

    internal static VectorDatabase Open(string directory, DatabaseOptions? options, StorageSettings? storage)
    {
        options ??= new DatabaseOptions();
        var idle = options.CheckpointWhenIdle;
        if (idle < TimeSpan.Zero && idle != Timeout.InfiniteTimeSpan)
            throw new InvalidArgumentException($"DatabaseOptions.CheckpointWhenIdle must not be negative (got {idle}; Zero or Timeout.InfiniteTimeSpan turn it off)");
        ThrowIfAFile(directory);
        try
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The runtime's own text names neither the cause nor what was being created ("Could not find a part of the path").
            throw new StorageIoException(directory, $"cannot create the database directory ({e.Message})", e);
        }
        var db = new VectorDatabase(Path.GetFullPath(directory), options);
        var settings = storage ?? new StorageSettings();
        return db.OpenedWith(() => db.OpenStorage(settings with { MinFreeBytes = db.Options.MinFreeDiskBytes, CheckpointWhenIdle = idle, Buffers = new BufferLedger() }));
    }

    /// <summary>Names of the collections, sorted.</summary>
    public IReadOnlyList<string> CollectionNames
    {
        get
        {
            lock (_gate)
            {
                ThrowIfClosed();
                return _collections.Keys.Order(StringComparer.Ordinal).ToArray();
            }
        }
    }

    /// <summary>Creates a collection; fails if the name is taken or the options are invalid.</summary>
    public Collection CreateCollection(string name, CollectionOptions options)
    {
        ThrowIfReadOnly("creating a collection");
        ValidateName(name);
        lock (_gate)
        {
            ThrowIfClosed();
            if (_collections.ContainsKey(name)) throw new InvalidArgumentException($"collection '{name}' already exists");
            if (_damaged.ContainsKey(name))
                throw new InvalidArgumentException($"collection '{name}' already exists (set aside when the database opened: its files could not be opened); drop it first");
            options.ValidateNew();
            var c = Directory is null ? new Collection(name, options, threads: Options.Threads) : CreatePersistent(name, options);
            Adopt(c);
            _collections.Add(name, c);
            return c;
        }
    }

    /// <summary>
    /// The collection called <paramref name="name"/>, or an <see cref="InvalidArgumentException"/>. A collection that
    /// stopped after a failed write (<see cref="CollectionFaultedException"/>) is reopened from its files first, in a
    /// database directory; the object the failure stopped stays stopped. The reopen (a replay of the log) runs outside
    /// the database's lock: other collections are served meanwhile, and other callers asking for this one get the
    /// stopped object, whose calls say it is unavailable.
    /// </summary>
    public Collection GetCollection(string name)
    {
        ManifestCollection entry;
        Collection c;
        lock (_gate)
        {
            ThrowIfClosed();
            ThrowIfDamaged(name);
            if (!_collections.TryGetValue(name, out c!)) throw new InvalidArgumentException($"collection '{name}' does not exist");
            if (!c.Faulted || Directory is null || IsReadOnly || !ReopenDue(name) || !_reopening.Add(name)) return c;
            entry = CloseFaulted(c);
        }
        return ReopenFaulted(c, entry);
    }

    /// <summary>Deletes a collection and its data; returns false when it did not exist.</summary>
    public bool DropCollection(string name)
    {
        ThrowIfReadOnly("dropping a collection");
        lock (_gate)
        {
            // A reopen in progress reads the collection's files: the drop waits for it (the lock is released meanwhile).
            while (_reopening.Contains(name)) Monitor.Wait(_gate);
            ThrowIfClosed();
            if (_damaged.ContainsKey(name))
            {
                // Nothing of it is open: the manifest first, as for any drop, then its files. Once unlisted it is no
                // longer this database's, even when its directory cannot be deleted (a create of the name replaces it).
                string? unlisted = UnlistPersistent(name);
                _damaged.Remove(name);
                DropPersistent(name, unlisted);
                return true;
            }
            if (!_collections.TryGetValue(name, out var c)) return false;
            // The manifest first: a drop whose manifest write fails changes nothing and can be retried.
            string? dir = Directory is null ? null : UnlistPersistent(name);
            _collections.Remove(name);
            _reopenNotBefore.Remove(name);
            try { c.Close(); }
            finally
            {
                if (Directory is not null) DropPersistent(name, dir);
            }
            return true;
        }
    }

    /// <summary>
    /// Every call after <see cref="Dispose"/> fails the same way (the caller holds <c>_gate</c>): the closed database
    /// kept its collection table, so lookups, <c>Compact</c> and an in-memory database's create went on as if open.
    /// </summary>
    private void ThrowIfClosed() => ObjectDisposedException.ThrowIf(_closed, this);

    internal static void ValidateName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 128 || !name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-' or '.') || name[0] == '.')
            throw new InvalidArgumentException($"invalid collection name '{name}' (1–128 of A–Z a–z 0–9 _ - ., not starting with '.')");
    }

    /// <inheritdoc />
    /// <remarks>Writes a snapshot of every collection with unsnapshotted changes, so the next open replays little.</remarks>
    public void Dispose()
    {
        try
        {
            lock (_gate) CloseStorage(checkpoint: true);
        }
        finally { _telemetry.Dispose(); }
    }
}
