namespace VectorStore;

/// <summary>Settings of a database, with documented defaults. Immutable, so thread-safe.</summary>
/// <remarks>
/// Thread rule: <see cref="Threads"/> is the one setting for how many workers the engine's batch work uses. Every
/// collection of the database takes it for codec training and index construction (<c>TrainingContext.Threads</c>),
/// parallel index inserts, re-rank tuning, and <c>Collection.SearchBatch</c> when the caller passes 0. A per-call
/// count (<c>SearchBatch</c>'s argument, a server's <c>BatchSearchThreads</c>) overrides it when positive and defers to
/// it when 0; 0 here means all cores. Benchmark knobs that measure search at a chosen concurrency
/// (<c>EvalSettings.Threads</c>) are about the measurement, not the engine, and are separate.
/// </remarks>
public sealed record DatabaseOptions
{
    /// <summary>Worker threads of the engine's batch work (see the thread rule above); 0 = all cores. Default 0.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// Where the database's meter comes from (the host's, under dependency injection); null: the database creates
    /// its own meter named <see cref="Telemetry.VectorStoreTelemetry.MeterName"/>. Default null.
    /// </summary>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; init; }

    /// <summary>
    /// Free bytes the database keeps on its file system: once less is free, writes (upsert, delete, index builds,
    /// generation changes) are refused with <see cref="StorageFullException"/> before anything changes, so the
    /// snapshots and checkpoints that compact the log, and the clean close, still have room. 0 turns the guard off
    /// (a full disk then fails the write that hits it, with the same exception, and nothing of it is kept).
    /// Default 64 MiB.
    /// </summary>
    public long MinFreeDiskBytes { get; init; } = DefaultMinFreeDiskBytes;

    /// <summary>The default of <see cref="MinFreeDiskBytes"/>: 64 MiB.</summary>
    public const long DefaultMinFreeDiskBytes = 64L << 20;

    /// <summary>
    /// How long a collection goes without a write before the writes its last checkpoint does not cover are checkpointed
    /// in the background: the buffered full-precision vectors of disk residency move to their segment file and leave
    /// process memory, and a reopen has less log to replay. A write arriving meanwhile starts the wait again, so a
    /// steady writer is checkpointed by the size thresholds only. <see cref="TimeSpan.Zero"/> or
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> (or anything over 49 days, such as
    /// <see cref="TimeSpan.MaxValue"/>): never (buffered vectors then stay in memory until a size threshold,
    /// <c>compact</c> or the close). Negative values are refused when the database opens. Default 5 seconds.
    /// </summary>
    public TimeSpan CheckpointWhenIdle { get; init; } = DefaultCheckpointWhenIdle;

    /// <summary>The default of <see cref="CheckpointWhenIdle"/>: 5 seconds.</summary>
    public static readonly TimeSpan DefaultCheckpointWhenIdle = TimeSpan.FromSeconds(5);

    /// <summary>
    /// What this database's metrics and spans report as <c>db.namespace</c>, which tells apart collections of the same
    /// name in databases that share a meter (a dependency-injection factory's, or several databases in one process
    /// read by one listener). Null: a persistent database's directory as a full path, and no <c>db.namespace</c> for
    /// an in-memory database; an empty string: none. Default null.
    /// </summary>
    public string? TelemetryNamespace { get; init; }

    /// <summary>
    /// What opening a database directory does with a collection whose files cannot be opened (a damaged or truncated
    /// file, a newer format: <see cref="StoreCorruptedException"/>; an I/O error reading it: <see cref="StorageIoException"/>).
    /// False: the open fails with that error, naming the file, and no collection is served. True: the open succeeds
    /// with the other collections; the damaged one is listed in <c>VectorDatabase.DamagedCollections</c>, every call
    /// naming it throws its error again (of the same type, naming the same file), <c>DropCollection</c> removes it and
    /// its files, and nothing rewrites or deletes them (no checkpoint, no log truncation, no merge), so a restore or a
    /// later release can still read them (the open may have added what a missing part needs: an empty log directory, the
    /// collection's descriptor). Errors of other kinds (out of memory) fail the open either way. Default false.
    /// </summary>
    public bool SetAsideDamagedCollections { get; init; }

    /// <summary>Where the engine logs (training, checkpoints); null: nowhere. Default null.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; init; }
}
