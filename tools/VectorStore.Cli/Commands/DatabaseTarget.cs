using System.CommandLine;
using VectorStore.Client;

namespace VectorStore.Cli.Commands;

/// <summary>
/// The <c>--db DIR</c> | <c>--server HOST:PORT [--token-file F]</c> choice every database command offers. Either way
/// the command gets an <see cref="IVectorDatabaseClient"/> (the local database in process, or the thin client) and runs
/// the same code, so both print the same thing (CLI contract). Exactly one of --db and --server must be given.
/// One instance per command definition; stateless between invocations.
/// </summary>
public sealed class DatabaseTarget
{
    private readonly Option<string?> _db = new("--db") { Description = "Database directory (or use --server)" };
    private readonly Option<string?> _server = new("--server") { Description = "HOST:PORT of a 'vectorstore serve' to run through instead of --db" };
    private readonly Option<string?> _tokenFile = new("--token-file") { Description = "File holding the server's auth token (with --server)" };
    private readonly Option<bool> _tls = new("--tls") { Description = "Connect with TLS, verifying the server's certificate (with --server)" };
    private readonly Option<string?> _tlsCa = new("--tls-ca") { Description = "PEM file of the CA (or the server's own certificate) to trust instead of the system store; implies --tls" };
    private readonly Option<string?> _tlsName = new("--tls-server-name") { Description = "Name the server's certificate must carry (default: the host of --server); implies --tls" };
    private readonly Option<bool> _readOnly = new("--read-only") { Description = "Open --db read-only (always so for this command, which only reads): nothing in the directory is written; other read-only opens may share it (e.g. a database copied to a device)" };
    private bool _offersReadOnly;

    /// <summary>Adds the target options to <paramref name="command"/>.</summary>
    public DatabaseTarget AddTo(Command command)
    {
        command.Options.Add(_db);
        command.Options.Add(_server);
        command.Options.Add(_tokenFile);
        command.Options.Add(_tls);
        command.Options.Add(_tlsCa);
        command.Options.Add(_tlsName);
        return this;
    }

    /// <summary>
    /// Marks <paramref name="command"/> as one that only reads (search, info, export): it opens <c>--db</c> read-only,
    /// so it never writes to the directory (no checkpoint or log truncation on close, no orphan removal, no format
    /// migration) and may run beside other readers. Adds the explicit <c>--read-only</c> flag of the CLI contract.
    /// </summary>
    public DatabaseTarget WithReadOnly(Command command)
    {
        command.Options.Add(_readOnly);
        _offersReadOnly = true;
        return this;
    }

    /// <summary>Checks the combination of flags (a usage error otherwise), before any file is read or anything opened.</summary>
    public void Validate(ParseResult r)
    {
        string? db = r.GetValue(_db), server = r.GetValue(_server);
        if (db is null && server is null) throw new UsageException("one of --db DIR or --server HOST:PORT is required");
        if (db is not null && server is not null) throw new UsageException("give either --db or --server, not both");
        if (db is not null && r.GetValue(_tokenFile) is not null) throw new UsageException("--token-file only applies with --server");
        if (db is not null && (r.GetValue(_tls) || r.GetValue(_tlsCa) is not null || r.GetValue(_tlsName) is not null))
            throw new UsageException("--tls, --tls-ca and --tls-server-name only apply with --server");
        if (r.GetValue(_tlsCa) is { } ca && !File.Exists(ca)) throw new UsageException($"--tls-ca {ca}: no such file");
        if (_offersReadOnly && r.GetValue(_readOnly) && server is not null) throw new UsageException("--read-only applies with --db (a server decides how it opens its database)");
    }

    /// <summary>Where the command works, for messages: <c>in DIR</c> (absolute) or <c>on HOST:PORT</c>.</summary>
    public string Describe(ParseResult r) =>
        r.GetValue(_db) is { } dir ? $"in {Path.GetFullPath(dir)}" : $"on {r.GetValue(_server)}";

    /// <summary>
    /// Validates, opens the database (<paramref name="create"/>: creating the directory's database if there is none)
    /// or connects, runs <paramref name="body"/> and closes; returns 0 (failures throw, for <see cref="CliCommand.Guard"/>).
    /// </summary>
    public int Run(ParseResult r, Func<IVectorDatabaseClient, Task> body, bool create = false)
    {
        Validate(r);
        RunAndClose(OpenAsync(r, create).GetAwaiter().GetResult(), body);
        return 0;
    }

    /// <summary>
    /// Runs <paramref name="body"/> against <paramref name="db"/>, then closes it. When the body fails and closing after
    /// it fails too (a snapshot on a full disk, say), the body's error is still the one reported, with its exit code,
    /// and the close failure is appended to its message: the contract allows one <c>error:</c> line.
    /// </summary>
    public static void RunAndClose(IVectorDatabaseClient db, Func<IVectorDatabaseClient, Task> body)
    {
        try
        {
            body(db).GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            try { db.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
            catch (Exception closing)
            {
                var (code, message) = CliCommand.Classify(e);
                throw new ClassifiedException(code, $"{message}; closing the database also failed: {CliCommand.Classify(closing).Message}", e);
            }
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e).Throw();
            throw;
        }
        db.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    private async Task<IVectorDatabaseClient> OpenAsync(ParseResult r, bool create) =>
        r.GetValue(_db) is { } dir
            ? new InProcessDatabaseClient(OpenDirectory(dir, create, readOnly: _offersReadOnly), ownsDatabase: true)
            : await VectorStoreClient.ConnectAsync(r.GetValue(_server)!, ClientOptionsFrom(r)).ConfigureAwait(false);

    private ClientOptions ClientOptionsFrom(ParseResult r) => new()
    {
        Token = r.GetValue(_tokenFile) is { } f ? TokenFile.Read(f) : null,
        UseTls = r.GetValue(_tls) || r.GetValue(_tlsCa) is not null || r.GetValue(_tlsName) is not null,
        TlsCaFile = r.GetValue(_tlsCa),
        TlsServerName = r.GetValue(_tlsName),
    };

    /// <summary>
    /// Opens <paramref name="dir"/> (read-only with <paramref name="readOnly"/>); unless <paramref name="create"/>, the
    /// directory must already hold a database (a typo in --db should not silently create an empty one).
    /// </summary>
    public static VectorDatabase OpenDirectory(string dir, bool create = false, bool readOnly = false)
    {
        // A lost MANIFEST beside collection data gets the engine's refusal (it names the collections), not "run create";
        // so does a file named as the directory, which create would not cure.
        bool hasData = Directory.Exists(Path.Combine(dir, "collections")) && Directory.EnumerateFileSystemEntries(Path.Combine(dir, "collections")).Any();
        if (!create && !hasData && !File.Exists(dir) && !File.Exists(Path.Combine(dir, "MANIFEST")))
            throw new StoreCorruptedException(dir, "no VectorStore database here (MANIFEST missing); run 'create' first");
        try
        {
            return readOnly ? VectorDatabase.OpenReadOnly(dir, null, StorageFromEnvironment()) : VectorDatabase.Open(dir, OptionsFromEnvironment(), StorageFromEnvironment());
        }
        catch (VectorStoreException e) when (e.InnerException is IOException io && VectorDatabase.IsLockHeld(io))
        {
            // Most often a `vectorstore serve` holds it: every database command also runs through a server.
            throw new VectorStoreException($"{e.Message}; if a 'vectorstore serve' has it open, run the command through it with --server HOST:PORT instead of --db", e);
        }
    }

    /// <summary>
    /// <c>VECTORSTORE_MIN_FREE_BYTES=N</c> sets <see cref="DatabaseOptions.MinFreeDiskBytes"/>, the free space below
    /// which writes are refused (default 64 MiB; 0 turns the reserve off). Used by every command that writes and by
    /// <c>serve</c>.
    /// </summary>
    public static DatabaseOptions OptionsFromEnvironment() =>
        long.TryParse(Environment.GetEnvironmentVariable("VECTORSTORE_MIN_FREE_BYTES"), out long free) && free >= 0
            ? new DatabaseOptions { MinFreeDiskBytes = free }
            : new DatabaseOptions();

    /// <summary>
    /// <c>VECTORSTORE_CHECKPOINT_BYTES=N</c> lowers both automatic checkpoint thresholds (log bytes since the last
    /// checkpoint, buffered vector bytes) to N: the crash tests use it to kill a child during checkpoints and merges.
    /// <c>VECTORSTORE_WAL_PAGE_BITS=B</c> shrinks the log's pages to 2^B bytes (memory two pages, segments four), so
    /// the crash-point tests meet page boundaries often; every open of that directory must use the same value.
    /// </summary>
    private static Storage.StorageSettings? StorageFromEnvironment()
    {
        var settings = new Storage.StorageSettings();
        bool changed = false;
        if (long.TryParse(Environment.GetEnvironmentVariable("VECTORSTORE_CHECKPOINT_BYTES"), out long n) && n > 0)
        {
            settings = settings with { SnapshotAfterLogBytes = n, CheckpointAfterBufferedBytes = n };
            changed = true;
        }
        if (int.TryParse(Environment.GetEnvironmentVariable("VECTORSTORE_WAL_PAGE_BITS"), out int bits) && bits is >= 12 and <= 22)
        {
            settings = settings with { Wal = new Storage.WalSettings { PageSizeBits = bits, MemorySizeBits = bits + 1, SegmentSizeBits = bits + 2 } };
            changed = true;
        }
        return changed ? settings : null;
    }

    /// <summary>Connects to <c>HOST:PORT</c> without TLS, with the token read from <paramref name="tokenFile"/> (trimmed), if any.</summary>
    public static Task<VectorStoreClient> ConnectAsync(string server, string? tokenFile) =>
        VectorStoreClient.ConnectAsync(server, new ClientOptions { Token = tokenFile is null ? null : TokenFile.Read(tokenFile) });
}
