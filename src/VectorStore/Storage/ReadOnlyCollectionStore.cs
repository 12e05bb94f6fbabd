namespace VectorStore.Storage;

/// <summary>
/// One collection of a database opened read-only: its snapshot and segments are loaded as a writable open would, the
/// log records the snapshot does not cover are replayed from a read-only FASTER instance that is closed right after
/// (so a searching process holds no log buffers), and nothing in the directory is written, created or deleted: no
/// checkpoint, no orphan removal, no migration. Every journal write is a <see cref="ReadOnlyDatabaseException"/>,
/// raised before the collection changes anything in memory.
/// Thread-safety: <see cref="Recover"/> runs once, before the collection is shared; the rest is stateless.
/// </summary>
internal sealed class ReadOnlyCollectionStore : ICollectionJournal
{
    private readonly string _databaseDirectory;

    /// <summary>The journal of the collection in <paramref name="directory"/> of the database in <paramref name="databaseDirectory"/>.</summary>
    public ReadOnlyCollectionStore(string directory, string databaseDirectory)
    {
        Directory = directory;
        _databaseDirectory = databaseDirectory;
    }

    /// <summary>The collection's directory.</summary>
    public string Directory { get; }

    /// <summary>Loads <paramref name="collection"/> from the collection directory without writing to it.</summary>
    public void Recover(IJournaledState collection, ManifestCollection entry, WalSettings wal)
    {
        string directory = Directory;
        if (!System.IO.Directory.Exists(directory))
            throw new StoreCorruptedException(directory, $"directory of collection '{entry.Name}' is missing");
        string walDirectory = Path.Combine(directory, "wal");
        string tailPath = Path.Combine(walDirectory, DurableTail.FileName);
        if (!File.Exists(tailPath))
            throw new StoreCorruptedException(tailPath, "durable-tail record is missing; the write-ahead log cannot be trusted");
        TailRecord tail;
        using (var t = DurableTail.OpenRead(tailPath)) tail = t.Read();
        long from = LogReplay.RestoreSnapshot(collection, directory, entry, tail.Begin, tailPath, tail.Framed && tail.BeginPoint.Sequence > LogFraming.Point.Start.Sequence, out _);
        // A database closed cleanly has a snapshot covering its whole log: FASTER is not even opened then, unless
        // entries continue past the recorded durable address (its newest slot was lost).
        if (tail.Durable > from || FasterWriteAheadLog.HasEntriesPast(walDirectory, wal, tail))
        {
            using var log = FasterWriteAheadLog.OpenForReading(walDirectory, wal);
            if (log.BeginAddress > from)
                throw new StoreCorruptedException(tailPath, $"log begins at {log.BeginAddress}, after the snapshot's address {from}: records in between are lost");
            LogReplay.Run(collection, log, from);
        }
    }

    /// <inheritdoc />
    public void CheckWritable(string operation) => throw new ReadOnlyDatabaseException(_databaseDirectory, operation);

    /// <inheritdoc />
    public long AppendUpserts(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads, IReadOnlyList<byte[]?>? fields, long[]? rowTickets = null) => throw new ReadOnlyDatabaseException(_databaseDirectory, "upsert");

    /// <inheritdoc />
    public long AppendDelete(ulong id) => throw new ReadOnlyDatabaseException(_databaseDirectory, "delete");

    /// <inheritdoc />
    public long AppendBuildIndex() => throw new ReadOnlyDatabaseException(_databaseDirectory, "building the index");

    /// <inheritdoc />
    public long AppendGeneration(GenerationRecord record) => throw new ReadOnlyDatabaseException(_databaseDirectory, "changing compression generations");

    /// <inheritdoc />
    public void WaitDurable(long ticket) { }

    /// <inheritdoc />
    public ValueTask WaitDurableAsync(long ticket, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <inheritdoc />
    public long DiskBytes() => FileSpace.DirectoryBytes(Directory);
}
