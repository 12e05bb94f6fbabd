using System.CommandLine;
using VectorStore.Cli.Remote;
using VectorStore.Client;

namespace VectorStore.Cli.Commands;

/// <summary>Opening a database directory for the persistent-database commands.</summary>
internal static class DatabaseCli
{
    /// <summary>
    /// Opens <paramref name="dir"/>; unless <paramref name="create"/>, the directory must already hold a database
    /// (a typo in --db should not silently create an empty one).
    /// </summary>
    public static VectorDatabase Open(string dir, bool create = false)
    {
        if (!create && !File.Exists(Path.Combine(dir, "MANIFEST")))
            throw new StoreCorruptedException(dir, "no VectorStore database here (MANIFEST missing); run 'create' first");
        return VectorDatabase.Open(dir);
    }
}

/// <summary>
/// The <c>--db DIR</c> | <c>--server HOST:PORT [--token-file F]</c> choice every database command offers (CLI
/// contract: the server variant runs through the thin client with the same output). Exactly one of --db and
/// --server must be given.
/// </summary>
internal sealed class DatabaseTarget
{
    private readonly Option<string?> _db = new("--db") { Description = "Database directory (or use --server)" };
    private readonly Option<string?> _server = new("--server") { Description = "HOST:PORT of a 'vectorstore serve' to run through instead of --db" };
    private readonly Option<string?> _tokenFile = new("--token-file") { Description = "File holding the server's auth token (with --server)" };

    /// <summary>Adds the three options to <paramref name="command"/>.</summary>
    public DatabaseTarget AddTo(Command command)
    {
        command.Options.Add(_db);
        command.Options.Add(_server);
        command.Options.Add(_tokenFile);
        return this;
    }

    /// <summary>The --db directory, or null when --server was given (then <paramref name="server"/> is set).</summary>
    public string? Resolve(ParseResult r, out string? server)
    {
        string? db = r.GetValue(_db);
        server = r.GetValue(_server);
        if (db is null && server is null) throw new UsageException("one of --db DIR or --server HOST:PORT is required");
        if (db is not null && server is not null) throw new UsageException("give either --db or --server, not both");
        if (db is not null && r.GetValue(_tokenFile) is not null) throw new UsageException("--token-file only applies with --server");
        return db;
    }

    /// <summary>Connects to <paramref name="server"/> with the --token-file token, runs <paramref name="body"/>, disconnects; returns 0.</summary>
    public int RunRemote(ParseResult r, string server, Func<VectorStoreClient, Task> body)
    {
        var client = RemoteCommands.ConnectAsync(server, r.GetValue(_tokenFile)).GetAwaiter().GetResult();
        try
        {
            body(client).GetAwaiter().GetResult();
        }
        finally
        {
            client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return 0;
    }
}
