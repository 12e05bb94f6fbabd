using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using VectorStore.Server;

namespace VectorStore.Cli.Commands;

/// <summary>
/// <c>vectorstore serve --db DIR --port P [--bind 127.0.0.1] [--token-file F]</c>: serves the database over the binary
/// TCP protocol, prints <c>listening HOST:PORT</c> once ready, and on SIGINT/SIGTERM stops accepting, drains
/// in-flight requests, flushes and exits 0.
/// </summary>
public sealed class ServeCommand : CliCommand
{
    /// <inheritdoc />
    public override Command Build()
    {
        var db = Opt<string>("--db", "Database directory (created if missing)", required: true);
        var port = Opt<int>("--port", "TCP port (0 = any free port; the chosen one is printed)", required: true);
        var bind = Opt("--bind", "Address to listen on", "127.0.0.1");
        var tokenFile = Opt<string?>("--token-file", "File holding the auth token clients must send (surrounding whitespace ignored)");
        var maxConnections = Opt("--max-connections", "Most open connections", 1024);
        var idle = Opt("--idle-timeout", "Seconds before an idle connection is closed", 300);
        var command = new Command("serve", "Serve a database over the VectorStore TCP protocol") { db, port, bind, tokenFile, maxConnections, idle };
        command.SetAction(r => Guard(() => Run(r.GetValue(db)!, r.GetValue(port), r.GetValue(bind)!, r.GetValue(tokenFile),
            r.GetValue(maxConnections), r.GetValue(idle))));
        return command;
    }

    private static int Run(string dir, int port, string bind, string? tokenFile, int maxConnections, int idleSeconds)
    {
        RequireRange("--port", port, 0, 65535);
        RequireRange("--max-connections", maxConnections, 1, 1_000_000);
        RequireRange("--idle-timeout", idleSeconds, 1, 86_400);
        var address = bind == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(bind, out var a) ? a : throw new UsageException($"--bind: '{bind}' is not an IP address");
        var token = tokenFile is null ? null : ReadToken(tokenFile);

        using var database = VectorDatabase.Open(dir);
        var options = new ServerOptions
        {
            EndPoint = new IPEndPoint(address, port),
            Token = token,
            MaxConnections = maxConnections,
            IdleTimeout = TimeSpan.FromSeconds(idleSeconds),
            Log = line => Console.Error.WriteLine($"serve: {line}"),
            // Also run by StopAsync on SIGINT/SIGTERM, after in-flight requests are answered; disposing the database
            // afterwards then finds nothing left to snapshot.
            Flush = d => d.Flush(),
            Snapshot = d => d.Snapshot(),
        };
        var server = new VectorStoreServer(database, options);
        server.Start();
        var stop = new ManualResetEventSlim();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
        var ep = server.LocalEndPoint!;
        Console.Out.WriteLine($"listening {(ep.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ep.Address}]" : ep.Address.ToString())}:{ep.Port}");
        Console.Out.Flush();
        stop.Wait();
        Console.Error.WriteLine("serve: shutting down (draining in-flight requests)");
        server.StopAsync().GetAwaiter().GetResult();
        return 0;
    }

    private static byte[] ReadToken(string path)
    {
        var token = TokenFile.Read(path);
        if (token.Length == 0) throw new UsageException($"--token-file {path} is empty");
        return token;
    }
}
