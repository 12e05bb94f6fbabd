using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using VectorStore.Protocol;

namespace VectorStore.Server;

/// <summary>
/// Serves a <see cref="VectorDatabase"/>, or any <see cref="IVectorDatabaseClient"/> (a cluster gateway fronts a
/// distributed database this way), over the VectorStore binary protocol (data-format.md section 5).
/// </summary>
/// <remarks>
/// Thread-safety: <see cref="Start"/>, <see cref="StopAsync"/> and <see cref="DisposeAsync"/> may be called from any
/// thread; the server never disposes the database it serves.
/// </remarks>
public sealed class VectorStoreServer : IAsyncDisposable
{
    private readonly VectorDatabase? _db;
    private readonly IVectorDatabaseClient? _client;
    private readonly ServerOptions _options;
    private readonly ServerContext _context;
    private readonly ConcurrentDictionary<ServerConnection, Task> _connections = new();
    private readonly CancellationTokenSource _acceptStop = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private Timer? _sweeper;
    private Task? _stopping;
    private readonly object _gate = new();

    /// <summary>Smallest <see cref="ServerOptions.MemoryBudgetBytes"/> accepted.</summary>
    public const long MinMemoryBudgetBytes = 1L << 20;

    /// <summary>
    /// Creates a server for <paramref name="db"/>; call <see cref="Start"/> to listen. Throws
    /// <see cref="InvalidArgumentException"/> for settings out of range.
    /// </summary>
    public VectorStoreServer(VectorDatabase db, ServerOptions? options = null)
        : this(db, null, options)
    {
    }

    /// <summary>
    /// Creates a server answering every request through <paramref name="database"/> (for example a distributed
    /// database's client: a cluster gateway). Flush calls its <see cref="IVectorDatabaseClient.FlushAsync"/>, Snapshot
    /// compacts each collection, BuildIndex needs an <see cref="IIndexBuildingClient"/>; the
    /// <see cref="ServerOptions.Flush"/>/<see cref="ServerOptions.Snapshot"/> hooks, which take an engine database,
    /// are not used. Throws <see cref="InvalidArgumentException"/> for settings out of range.
    /// </summary>
    public VectorStoreServer(IVectorDatabaseClient database, ServerOptions? options = null)
        : this(null, database ?? throw new ArgumentNullException(nameof(database)), options)
    {
    }

    private VectorStoreServer(VectorDatabase? db, IVectorDatabaseClient? client, ServerOptions? options)
    {
        _db = db;
        _client = client;
        _options = options ?? new ServerOptions();
        if (_options.Log is { } log)
        {
            // Logging runs on timer and thread-pool threads, where an exception ends the process: a failing sink (a
            // closed stderr pipe, say) loses the line rather than the server.
            _options = _options with
            {
                Log = line =>
                {
                    try { log(line); }
                    catch (Exception) { /* nowhere left to report it */ }
                },
            };
        }
        if (_options.MaxConnections < 1) throw new InvalidArgumentException($"MaxConnections must be at least 1, got {_options.MaxConnections}");
        if (_options.MaxUnauthenticatedConnections < 1)
            throw new InvalidArgumentException($"MaxUnauthenticatedConnections must be at least 1, got {_options.MaxUnauthenticatedConnections}");
        if (_options.MemoryBudgetBytes < MinMemoryBudgetBytes)
            throw new InvalidArgumentException($"MemoryBudgetBytes must be at least {MinMemoryBudgetBytes}, got {_options.MemoryBudgetBytes}");
        if (_options.TlsCertificate is { HasPrivateKey: false } c)
            throw new InvalidArgumentException($"the TLS certificate {c.Subject} has no private key");
        // A request is charged twice its payload, so the largest frame that fits is budget/2 plus the header body.
        long fits = _options.MemoryBudgetBytes / 2 + ProtocolConstants.HeaderBodySize;
        var limits = _options.Limits with { MaxFrameBytes = (int)Math.Min(_options.Limits.MaxFrameBytes, fits) };
        var tls = _options.TlsCertificate is { } cert
            ? new SslServerAuthenticationOptions
            {
                // Built once: the context carries the chain, which SslStream would otherwise rebuild per connection.
                ServerCertificateContext = SslStreamCertificateContext.Create(cert, additionalCertificates: null),
                ClientCertificateRequired = false,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            }
            : null;
        IRequestHandler dispatcher = db is not null ? new RequestDispatcher(db, _options) : new ClientRequestDispatcher(client!, _options);
        _context = new ServerContext(_options, dispatcher, new TokenAuthenticator(_options.Token),
            new ConnectionAdmission(_options.MaxConnections, _options.MaxUnauthenticatedConnections),
            new MemoryBudget(_options.MemoryBudgetBytes), limits, tls, new IdleTrim(_options.IdleTrimDelay, _options.IdleTrimAllocationBytes));
    }

    /// <summary>How many idle trims (<see cref="ServerOptions.IdleTrimDelay"/>) have run.</summary>
    internal int IdleTrims => _context.Trim.Trims;

    /// <summary>The address actually bound (with the real port when 0 was asked for); null before <see cref="Start"/>.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Open connections, authenticated or not.</summary>
    public int ConnectionCount => _connections.Count;

    /// <summary>Connections that completed the handshake and are still open.</summary>
    public int AuthenticatedConnectionCount => _context.Admission.Authenticated;

    /// <summary>Bytes currently charged to the memory budget by in-flight requests and responses.</summary>
    public long MemoryInUse => _context.Budget.Used;

    /// <summary>Binds and starts accepting connections. Throws <see cref="SocketException"/> if the address is taken.</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_listener is not null) throw new InvalidOperationException("the server is already started");
            var listener = new Socket(_options.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                listener.Bind(_options.EndPoint);
                listener.Listen(512);
            }
            catch
            {
                listener.Dispose();
                throw;
            }
            _listener = listener;
            LocalEndPoint = (IPEndPoint)listener.LocalEndPoint!;
            WarnIfExposed(LocalEndPoint);
            _sweeper = new Timer(_ => Sweep(), null, _options.SweepInterval, _options.SweepInterval);
            _acceptLoop = Task.Run(AcceptLoopAsync);
        }
    }

    private async Task AcceptLoopAsync()
    {
        var token = _acceptStop.Token;
        while (!token.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptAsync(token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                // A connection reset before accept completed, or descriptors exhausted: keep serving the others.
                _options.Log?.Invoke($"accept failed: {e.SocketErrorCode}");
                continue;
            }
            if (_context.Admission.AuthenticatedFull)
            {
                _options.Log?.Invoke("connection limit reached; refusing a client");
                socket.Dispose();
                continue;
            }
            ServerConnection connection;
            try
            {
                connection = new ServerConnection(socket, _context);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or IOException)
            {
                // Reset between accept and set-up.
                socket.Dispose();
                continue;
            }
            _context.Admission.Admit(connection)?.Abort("too many connections in the handshake; closing the oldest");
            // Registered before it runs: a client that already hung up ends its connection at once, and a removal
            // that came before the registration left it counted (and swept) for the server's life.
            var run = new Task<Task>(async () =>
            {
                try { await connection.RunAsync().ConfigureAwait(false); }
                finally { _connections.TryRemove(connection, out _); }
            });
            _connections[connection] = run.Unwrap();
            run.Start(TaskScheduler.Default);
        }
    }

    /// <summary>
    /// Runs on a timer thread, where an escaping exception would end the process: a failure is logged and the sweep
    /// goes on with the next connection.
    /// </summary>
    private void Sweep()
    {
        long now = Stopwatch.GetTimestamp();
        foreach (var c in _connections.Keys)
        {
            try
            {
                c.CheckTimeouts(now);
            }
            catch (Exception e)
            {
                _options.Log?.Invoke($"timeout check failed: {e}");
            }
        }
        try
        {
            _context.Trim.TryTrim(now, busy: _context.Budget.InFlight > 0, GC.GetTotalAllocatedBytes());
        }
        catch (Exception e)
        {
            _options.Log?.Invoke($"idle trim failed: {e}");
        }
    }

    private void WarnIfExposed(IPEndPoint endPoint)
    {
        if (ExposureWarning(endPoint, _options.Token is not null, _options.TlsCertificate is not null) is { } warning) _options.Log?.Invoke(warning);
    }

    /// <summary>The warning for listening on <paramref name="endPoint"/> with these protections, or null on loopback or when protected.</summary>
    internal static string? ExposureWarning(IPEndPoint endPoint, bool hasToken, bool hasTls) =>
        IPAddress.IsLoopback(endPoint.Address) ? null
        : !hasToken ? $"warning: listening on {endPoint} beyond loopback without a token: anyone who can reach this port can read and change the database"
        : !hasTls ? $"warning: listening on {endPoint} beyond loopback without TLS: the token and all data travel in clear"
        : null;

    /// <summary>
    /// Graceful shutdown: stops accepting, stops reading new requests, lets in-flight requests finish and be
    /// answered (up to <see cref="ServerOptions.DrainTimeout"/>), closes every connection, then flushes and
    /// snapshots the database when those hooks are configured. Idempotent.
    /// </summary>
    public Task StopAsync()
    {
        lock (_gate)
        {
            return _stopping ??= StopCoreAsync();
        }
    }

    private async Task StopCoreAsync()
    {
        _acceptStop.Cancel();
        _listener?.Dispose();
        if (_acceptLoop is not null) await _acceptLoop.ConfigureAwait(false);
        foreach (var c in _connections.Keys) c.StopReading();
        var all = Task.WhenAll(_connections.Values);
        var grace = _options.DrainTimeout + TimeSpan.FromSeconds(1);
        if (await Task.WhenAny(all, Task.Delay(grace)).ConfigureAwait(false) != all)
        {
            foreach (var c in _connections.Keys) c.Abort("shutdown drain timeout");
            await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        }
        if (_sweeper is not null) await _sweeper.DisposeAsync().ConfigureAwait(false);
        if (_db is not null)
        {
            _options.Flush?.Invoke(_db);
            _options.Snapshot?.Invoke(_db);
        }
        else
        {
            // The database outlives this gateway (other gateways serve it): a failed flush is reported, not fatal.
            try { await _client!.FlushAsync().ConfigureAwait(false); }
            catch (Exception e) { _options.Log?.Invoke($"flush at shutdown failed: {e.Message}"); }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
