using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace VectorStore.Server;

/// <summary>
/// Serves a <see cref="VectorDatabase"/> over the VectorStore binary protocol (data-format.md section 5).
/// </summary>
/// <remarks>
/// Thread-safety: <see cref="Start"/>, <see cref="StopAsync"/> and <see cref="DisposeAsync"/> may be called from any
/// thread; the server never disposes the database it serves.
/// </remarks>
public sealed class VectorStoreServer : IAsyncDisposable
{
    private readonly VectorDatabase _db;
    private readonly ServerOptions _options;
    private readonly RequestDispatcher _dispatcher;
    private readonly TokenAuthenticator _auth;
    private readonly ConcurrentDictionary<ServerConnection, Task> _connections = new();
    private readonly CancellationTokenSource _acceptStop = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private Timer? _sweeper;
    private Task? _stopping;
    private readonly object _gate = new();

    /// <summary>Creates a server for <paramref name="db"/>; call <see cref="Start"/> to listen.</summary>
    public VectorStoreServer(VectorDatabase db, ServerOptions? options = null)
    {
        _db = db;
        _options = options ?? new ServerOptions();
        _dispatcher = new RequestDispatcher(db, _options);
        _auth = new TokenAuthenticator(_options.Token);
    }

    /// <summary>The address actually bound (with the real port when 0 was asked for); null before <see cref="Start"/>.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Open connections.</summary>
    public int ConnectionCount => _connections.Count;

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
            if (_connections.Count >= _options.MaxConnections)
            {
                _options.Log?.Invoke("connection limit reached; refusing a client");
                socket.Dispose();
                continue;
            }
            var connection = new ServerConnection(socket, _dispatcher, _options, _auth);
            _connections[connection] = Task.Run(async () =>
            {
                await connection.RunAsync().ConfigureAwait(false);
                _connections.TryRemove(connection, out _);
            });
        }
    }

    private void Sweep()
    {
        long now = Stopwatch.GetTimestamp();
        foreach (var c in _connections.Keys) c.CheckTimeouts(now);
    }

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
        _options.Flush?.Invoke(_db);
        _options.Snapshot?.Invoke(_db);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
