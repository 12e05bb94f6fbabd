using System.CommandLine;
using System.Net;
using System.Runtime.InteropServices;
using VectorStore.Server;

namespace VectorStore.Cli.Commands;

/// <summary>
/// The TCP listener flags <c>serve</c> and <c>silo</c> share (port, bind address, token, connection and memory limits,
/// TLS) and the serve-until-signalled loop: whatever the server fronts, it is configured and stopped the same way.
/// One instance per command definition; stateless between invocations.
/// </summary>
public sealed class ServerFlags
{
    private readonly Option<int> _port;
    private readonly Option<string> _bind = CliCommand.Opt("--bind", "Address to listen on", "127.0.0.1");
    private readonly Option<string?> _tokenFile = CliCommand.Opt<string?>("--token-file", "File holding the auth token clients must send (surrounding whitespace ignored)");
    private readonly Option<int> _maxConnections = CliCommand.Opt("--max-connections", "Most authenticated connections", 1024);
    private readonly Option<int> _maxUnauthenticated = CliCommand.Opt("--max-unauthenticated", "Most connections still in the handshake; when full, the oldest is closed", 64);
    private readonly Option<int> _memoryBudget = CliCommand.Opt("--memory-budget", "MiB all in-flight requests may hold (a request counts twice its payload); beyond it sockets are not read", 256);
    private readonly Option<int> _idle = CliCommand.Opt("--idle-timeout", "Seconds before an idle connection is closed", 300);
    private readonly Option<int> _handshake = CliCommand.Opt("--handshake-timeout", "Seconds a new connection has to complete TLS and Hello", 5);
    private readonly Option<int> _idleTrim = CliCommand.Opt("--idle-trim", "Seconds without requests after which the process returns the last burst's garbage to the OS with one full collection (0 = never)", 10);
    private readonly Option<string?> _tlsCert = CliCommand.Opt<string?>("--tls-cert", "Serve TLS with this certificate: PEM (with its key, or see --tls-key) or PKCS#12 without a password");
    private readonly Option<string?> _tlsKey = CliCommand.Opt<string?>("--tls-key", "PEM private key of --tls-cert when it is not in the certificate file");

    /// <summary><paramref name="portRequired"/>: whether <c>--port</c> must be given (else it defaults to -1, no listener).</summary>
    public ServerFlags(bool portRequired, string portDescription)
    {
        _port = portRequired ? CliCommand.Opt<int>("--port", portDescription, required: true) : CliCommand.Opt("--port", portDescription, -1);
    }

    /// <summary>Adds the flags to <paramref name="command"/>.</summary>
    public ServerFlags AddTo(Command command)
    {
        foreach (var o in new Option[] { _port, _bind, _tokenFile, _maxConnections, _maxUnauthenticated, _memoryBudget, _idle, _handshake, _idleTrim, _tlsCert, _tlsKey })
            command.Options.Add(o);
        return this;
    }

    /// <summary>Whether a listener was asked for (<c>--port</c> ≥ 0).</summary>
    public bool Listens(ParseResult r) => r.GetValue(_port) >= 0;

    /// <summary>
    /// Checks every flag as a usage error and builds the server's options (the TLS certificate is loaded here and owned
    /// by the caller: dispose it after the server stopped). <paramref name="log"/> prefixes diagnostic lines.
    /// </summary>
    public ServerOptions Options(ParseResult r, string log)
    {
        int port = r.GetValue(_port), maxConnections = r.GetValue(_maxConnections), maxUnauthenticated = r.GetValue(_maxUnauthenticated);
        int memoryBudget = r.GetValue(_memoryBudget), idle = r.GetValue(_idle), handshake = r.GetValue(_handshake), idleTrim = r.GetValue(_idleTrim);
        CliCommand.RequireRange("--port", port, 0, 65535);
        CliCommand.RequireRange("--max-connections", maxConnections, 1, 1_000_000);
        CliCommand.RequireRange("--max-unauthenticated", maxUnauthenticated, 1, 1_000_000);
        CliCommand.RequireRange("--memory-budget", memoryBudget, 1, 1 << 20);
        CliCommand.RequireRange("--idle-timeout", idle, 1, 86_400);
        CliCommand.RequireRange("--handshake-timeout", handshake, 1, 3_600);
        CliCommand.RequireRange("--idle-trim", idleTrim, 0, 86_400);
        string bind = r.GetValue(_bind)!;
        var address = bind == "localhost" ? IPAddress.Loopback
            : IPAddress.TryParse(bind, out var a) ? a : throw new UsageException($"--bind: '{bind}' is not an IP address");
        var token = r.GetValue(_tokenFile) is { } tokenFile ? ReadToken(tokenFile) : null;
        string? tlsCert = r.GetValue(_tlsCert), tlsKey = r.GetValue(_tlsKey);
        if (tlsKey is not null && tlsCert is null) throw new UsageException("--tls-key needs --tls-cert");
        return new ServerOptions
        {
            EndPoint = new IPEndPoint(address, port),
            Token = token,
            MaxConnections = maxConnections,
            MaxUnauthenticatedConnections = maxUnauthenticated,
            MemoryBudgetBytes = (long)memoryBudget << 20,
            TlsCertificate = tlsCert is null ? null : ServerCertificates.Load(tlsCert, tlsKey),
            IdleTimeout = TimeSpan.FromSeconds(idle),
            HandshakeTimeout = TimeSpan.FromSeconds(handshake),
            IdleTrimDelay = TimeSpan.FromSeconds(idleTrim),
            Log = line => Console.Error.WriteLine($"{log}: {line}"),
        };
    }

    /// <summary>
    /// Starts <paramref name="server"/> (when not null), prints <c>listening HOST:PORT</c> (or <paramref name="ready"/>
    /// without a server), waits for SIGINT/SIGTERM, then drains and stops the server.
    /// </summary>
    public static void RunUntilSignalled(VectorStoreServer? server, string log, string ready = "ready")
    {
        var stop = new ManualResetEventSlim();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
        if (server is not null)
        {
            try
            {
                server.Start();
            }
            catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
            {
                throw new UsageException("cannot listen: the address and port are already in use by another process (choose another --port)");
            }
            var ep = server.LocalEndPoint!;
            Console.Out.WriteLine($"listening {(ep.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{ep.Address}]" : ep.Address.ToString())}:{ep.Port}");
        }
        else
        {
            Console.Out.WriteLine(ready);
        }
        Console.Out.Flush();
        stop.Wait();
        if (server is null) return;
        Console.Error.WriteLine($"{log}: shutting down (draining in-flight requests)");
        server.StopAsync().GetAwaiter().GetResult();
    }

    private static byte[] ReadToken(string path)
    {
        var token = TokenFile.Read(path);
        if (token.Length == 0) throw new UsageException($"--token-file {path} is empty");
        return token;
    }
}
