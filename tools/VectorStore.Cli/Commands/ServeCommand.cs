using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using VectorStore.Server;

namespace VectorStore.Cli.Commands;

/// <summary>
/// <c>vectorstore serve --db DIR --port P [--bind 127.0.0.1] [--token-file F] [--tls-cert F [--tls-key F]]</c>: serves
/// the database over the binary TCP protocol (optionally inside TLS), prints <c>listening HOST:PORT</c> once ready, and
/// on SIGINT/SIGTERM stops accepting, drains in-flight requests, flushes and exits 0. Warns on stderr when it listens
/// beyond loopback without a token (or without TLS).
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
        var maxConnections = Opt("--max-connections", "Most authenticated connections", 1024);
        var maxUnauthenticated = Opt("--max-unauthenticated", "Most connections still in the handshake; when full, the oldest is closed", 64);
        var memoryBudget = Opt("--memory-budget", "MiB all in-flight requests may hold (a request counts twice its payload); beyond it sockets are not read", 256);
        var idle = Opt("--idle-timeout", "Seconds before an idle connection is closed", 300);
        var handshake = Opt("--handshake-timeout", "Seconds a new connection has to complete TLS and Hello", 5);
        var tlsCert = Opt<string?>("--tls-cert", "Serve TLS with this certificate: PEM (with its key, or see --tls-key) or PKCS#12 without a password");
        var tlsKey = Opt<string?>("--tls-key", "PEM private key of --tls-cert when it is not in the certificate file");
        var command = new Command("serve", "Serve a database over the VectorStore TCP protocol")
        {
            db, port, bind, tokenFile, maxConnections, maxUnauthenticated, memoryBudget, idle, handshake, tlsCert, tlsKey,
        };
        command.SetAction(r => Guard(() => Run(r.GetValue(db)!, r.GetValue(port), r.GetValue(bind)!, r.GetValue(tokenFile), new Limits(
            r.GetValue(maxConnections), r.GetValue(maxUnauthenticated), r.GetValue(memoryBudget), r.GetValue(idle), r.GetValue(handshake)),
            r.GetValue(tlsCert), r.GetValue(tlsKey))));
        return command;
    }

    private sealed record Limits(int MaxConnections, int MaxUnauthenticated, int MemoryBudgetMiB, int IdleSeconds, int HandshakeSeconds);

    private static int Run(string dir, int port, string bind, string? tokenFile, Limits limits, string? tlsCert, string? tlsKey)
    {
        RequireRange("--port", port, 0, 65535);
        RequireRange("--max-connections", limits.MaxConnections, 1, 1_000_000);
        RequireRange("--max-unauthenticated", limits.MaxUnauthenticated, 1, 1_000_000);
        RequireRange("--memory-budget", limits.MemoryBudgetMiB, 1, 1 << 20);
        RequireRange("--idle-timeout", limits.IdleSeconds, 1, 86_400);
        RequireRange("--handshake-timeout", limits.HandshakeSeconds, 1, 3_600);
        var address = bind == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(bind, out var a) ? a : throw new UsageException($"--bind: '{bind}' is not an IP address");
        var token = tokenFile is null ? null : ReadToken(tokenFile);
        if (tlsKey is not null && tlsCert is null) throw new UsageException("--tls-key needs --tls-cert");
        using var certificate = tlsCert is null ? null : ServerCertificates.Load(tlsCert, tlsKey);

        using var database = VectorDatabase.Open(dir);
        var options = new ServerOptions
        {
            EndPoint = new IPEndPoint(address, port),
            Token = token,
            MaxConnections = limits.MaxConnections,
            MaxUnauthenticatedConnections = limits.MaxUnauthenticated,
            MemoryBudgetBytes = (long)limits.MemoryBudgetMiB << 20,
            TlsCertificate = certificate,
            IdleTimeout = TimeSpan.FromSeconds(limits.IdleSeconds),
            HandshakeTimeout = TimeSpan.FromSeconds(limits.HandshakeSeconds),
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
