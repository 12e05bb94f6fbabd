using System.CommandLine;
using VectorStore.Server;

namespace VectorStore.Cli.Commands;

/// <summary>
/// <c>vectorstore serve --db DIR --port P [--bind 127.0.0.1] [--token-file F] [--tls-cert F [--tls-key F]]</c>: serves
/// the database over the binary TCP protocol (optionally inside TLS), prints <c>listening HOST:PORT</c> once ready, and
/// on SIGINT/SIGTERM stops accepting, drains in-flight requests, flushes and exits 0. Warns on stderr when it listens
/// beyond loopback without a token (or without TLS). <c>vectorstore silo</c> serves a cluster the same way.
/// </summary>
public sealed class ServeCommand : CliCommand
{
    /// <inheritdoc />
    public override Command Build()
    {
        var db = Opt<string>("--db", "Database directory (created if missing)", required: true);
        var setAside = Opt<bool>("--set-aside-damaged",
            "Serve the other collections when one's files cannot be opened (it is named on stderr, not served, and left on disk); "
            + "without it a damaged collection stops the server from starting");
        var backupDir = Opt<string?>("--backup-dir",
            "Directory the clients' backups go into ('vectorstore backup --server … --to NAME' writes DIR/NAME); without it the server takes no backups");
        var command = new Command("serve", "Serve a database over the VectorStore TCP protocol") { db, setAside, backupDir };
        var flags = new ServerFlags(portRequired: true, "TCP port (0 = any free port; the chosen one is printed)").AddTo(command);
        command.SetAction(r => Guard(() => Run(r.GetValue(db)!, flags.Options(r, "serve") with { BackupDirectory = BackupDirectory(r.GetValue(backupDir), r.GetValue(db)!) },
            r.GetValue(setAside))));
        return command;
    }

    /// <summary>
    /// The backup directory as a full path, created if missing; refused before the server starts when it is a file or
    /// lies inside the database directory (a backup there would be inside what it backs up).
    /// </summary>
    private static string? BackupDirectory(string? dir, string db)
    {
        if (dir is null) return null;
        string full = Path.GetFullPath(dir);
        if (File.Exists(full)) throw new UsageException($"--backup-dir {dir}: is a file");
        // Real paths, so a symbolic link to the database does not get around it.
        if (Storage.FileDurability.IsWithin(full, db))
            throw new UsageException($"--backup-dir {dir}: lies inside the database directory {db}; backups go elsewhere (another disk, ideally)");
        Directory.CreateDirectory(full);
        foreach (var stale in Directory.EnumerateDirectories(full, ".*.partial-*"))
            Console.Error.WriteLine($"warning: {stale} was left by an interrupted backup (it is not one, and nothing reads it); delete it to free its space");
        return full;
    }

    private static int Run(string dir, ServerOptions options, bool setAsideDamaged)
    {
        using var certificate = options.TlsCertificate;
        using var database = VectorDatabase.Open(dir, DatabaseTarget.OptionsFromEnvironment() with { SetAsideDamagedCollections = setAsideDamaged });
        foreach (var (name, error) in database.DamagedCollections.OrderBy(p => p.Key, StringComparer.Ordinal))
            Console.Error.WriteLine($"warning: collection '{name}' is set aside, not served: {error.Message}");
        Console.Error.Flush();
        // Also run by StopAsync on SIGINT/SIGTERM, after in-flight requests are answered; disposing the database
        // afterwards then finds nothing left to snapshot.
        var server = new VectorStoreServer(database, options with { Flush = d => d.Flush(), Snapshot = d => d.Snapshot() });
        ServerFlags.RunUntilSignalled(server, "serve");
        return 0;
    }
}
