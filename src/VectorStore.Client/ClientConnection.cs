using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using VectorStore.Protocol;

namespace VectorStore.Client;

/// <summary>A response frame as received: opcode and a private copy of the payload.</summary>
internal readonly record struct RawResponse(byte Opcode, byte[] Payload);

/// <summary>
/// One multiplexed TCP connection: any number of requests may be outstanding (pipelined); a background loop matches
/// responses to requests by id, so they may complete in any order. When the connection fails every outstanding
/// request fails with <see cref="VectorStoreConnectionException"/> and <see cref="IsFaulted"/> turns true.
/// Thread-safe.
/// </summary>
internal sealed class ClientConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<uint, TaskCompletionSource<RawResponse>> _pending = new();
    private readonly int _maxResponseFrame;
    private Task? _readLoop;
    private int _nextId;
    private volatile Exception? _failure;
    private readonly string _endpoint;

    private ClientConnection(Socket socket, Stream stream, int maxResponseFrame, string endpoint)
    {
        _endpoint = endpoint;
        _socket = socket;
        _stream = stream;
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 4096, leaveOpen: true));
        _writer = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 64 * 1024, leaveOpen: true));
        _maxResponseFrame = maxResponseFrame;
    }

    public ProtocolLimits ServerLimits { get; private set; } = new();

    /// <summary>Protocol version agreed in the handshake (decides response layouts, e.g. Info).</summary>
    public ushort Version { get; private set; }

    public bool IsFaulted => _failure is not null;

    /// <summary>
    /// Connects speaking the newest version; a server that refuses it with <see cref="ErrorCode.UnsupportedVersion"/>
    /// (an older build, which closes the connection) is tried again with each older version down to
    /// <see cref="ProtocolConstants.MinVersion"/>.
    /// </summary>
    public static async Task<ClientConnection> ConnectAsync(string host, int port, ClientOptions options, CancellationToken ct)
    {
        for (ushort version = ProtocolConstants.Version; ; version--)
        {
            try
            {
                return await ConnectAsync(host, port, options, version, ct).ConfigureAwait(false);
            }
            catch (RemoteErrorException e) when (e.Code == ErrorCode.UnsupportedVersion && version > ProtocolConstants.MinVersion)
            {
            }
        }
    }

    private static async Task<ClientConnection> ConnectAsync(string host, int port, ClientOptions options, ushort version, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        Stream? stream = null;
        ClientConnection? c = null;
        try
        {
            await socket.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
            socket.NoDelay = true;
            stream = new NetworkStream(socket, ownsSocket: true);
            if (options.UseTls || options.TlsCaFile is not null)
                stream = await ClientTls.AuthenticateAsync(stream, host, port, options, timeout.Token).ConfigureAwait(false);
            c = new ClientConnection(socket, stream, options.MaxResponseFrameBytes, $"{host}:{port}");
            c._readLoop = Task.Run(c.ReadLoopAsync);
            var hello = new HelloRequest(version, options.Token ?? []);
            var response = await c.SendAsync((byte)Opcode.Hello, hello, Timeout.InfiniteTimeSpan, timeout.Token).ConfigureAwait(false);
            if (response.Opcode == (byte)Opcode.Error) throw RemoteErrors.ToException(ErrorResponse.Read(response.Payload));
            if (response.Opcode != ((byte)Opcode.Hello | ProtocolConstants.ResponseBit))
                throw new VectorStoreConnectionException($"unexpected handshake response opcode 0x{response.Opcode:X2}");
            var accepted = HelloResponse.Read(response.Payload);
            if (accepted.Version != version)
                throw new VectorStoreConnectionException($"server answered Hello for version {version} with version {accepted.Version}");
            c.ServerLimits = accepted.Limits;
            c.Version = accepted.Version;
            return c;
        }
        catch (Exception e)
        {
            if (c is not null) await c.DisposeAsync().ConfigureAwait(false);
            else if (stream is not null) await stream.DisposeAsync().ConfigureAwait(false);
            else socket.Dispose();
            if (e is OperationCanceledException && !ct.IsCancellationRequested)
                throw new VectorStoreConnectionException($"connecting to {host}:{port} timed out after {options.ConnectTimeout.TotalSeconds:0.#} s");
            if (e is SocketException or IOException)
                throw new VectorStoreConnectionException($"cannot connect to {host}:{port}: {e.Message}", e);
            // A TLS server drops a plain Hello without a word; say what to try.
            if (e is VectorStoreConnectionException && c is not null && !(options.UseTls || options.TlsCaFile is not null))
                throw new VectorStoreConnectionException($"{e.Message} during the handshake with {host}:{port} (if the server was started with --tls-cert, set ClientOptions.UseTls)", e);
            throw;
        }
    }

    /// <summary>
    /// Sends one request and waits for its response. Cancelling abandons the wait (the response is dropped). Past
    /// <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/>: never) the request fails with
    /// <see cref="RequestTimeoutException"/> and the connection is closed: a stalled server also stalls the requests
    /// behind it, and a send blocked on a full socket buffer ends only when the socket does.
    /// </summary>
    public async Task<RawResponse> SendAsync(byte opcode, IWireMessage message, TimeSpan timeout, CancellationToken ct)
    {
        if (_failure is { } f) throw new VectorStoreConnectionException($"connection lost: {f.Message}", f);
        int size = message.PayloadSize;
        if ((long)size + ProtocolConstants.HeaderBodySize > ServerLimits.MaxFrameBytes)
            throw new LimitExceededException($"request of {size} bytes exceeds the server's frame limit {ServerLimits.MaxFrameBytes}; send smaller batches");
        uint id = unchecked((uint)Interlocked.Increment(ref _nextId));
        var tcs = new TaskCompletionSource<RawResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        using var deadline = timeout == Timeout.InfiniteTimeSpan ? null : new CancellationTokenSource(timeout);
        using var expiry = deadline?.Token.UnsafeRegister(_ => Expire(id, opcode, timeout), null) ?? default;
        try
        {
            await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            _pending.TryRemove(id, out _);
            throw;
        }
        try
        {
            if (_failure is { } f2) throw new VectorStoreConnectionException($"connection lost: {f2.Message}", f2);
            FrameWriter.Write(_writer, opcode, id, message);
            // No token here: a flush cancelled half-way would leave a partial frame and desynchronise the stream.
            await _writer.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException or VectorStoreConnectionException)
        {
            _pending.TryRemove(id, out _);
            // This request's deadline closed the socket under it: the timeout is what happened.
            if (tcs.Task.IsFaulted) return await tcs.Task.ConfigureAwait(false);
            if (e is VectorStoreConnectionException) throw;
            Fail(e);
            throw new VectorStoreConnectionException($"connection lost while sending: {e.Message}", e);
        }
        catch
        {
            _pending.TryRemove(id, out _);
            throw;
        }
        finally
        {
            _writeLock.Release();
        }
        using var registration = ct.Register(() =>
        {
            if (_pending.TryRemove(id, out var t)) t.TrySetCanceled(ct);
        });
        return await tcs.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Fails request <paramref name="id"/> (if still waiting) with <see cref="RequestTimeoutException"/>, then the
    /// connection: the other requests on it fail as on a lost connection, and the next call reconnects.
    /// </summary>
    private void Expire(uint id, byte opcode, TimeSpan timeout)
    {
        if (!_pending.TryRemove(id, out var tcs)) return;
        string message = $"no response from {_endpoint} within {timeout.TotalSeconds:0.###} s to request 0x{opcode:X2} (ClientOptions.RequestTimeout): "
            + "the server stalled or the connection was dropped; a write may or may not have been applied. The connection is closed and the next call opens a new one";
        tcs.TrySetException(new RequestTimeoutException(message));
        Fail(new TimeoutException(message));
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    while (FrameParser.TryRead(buffer, _maxResponseFrame, out var header, out var payload, out var end) == FrameStatus.Complete)
                    {
                        if (_pending.TryRemove(header.RequestId, out var tcs))
                            tcs.TrySetResult(new RawResponse(header.Opcode, payload.ToArray()));
                        buffer = buffer.Slice(end);
                    }
                }
                finally
                {
                    _reader.AdvanceTo(buffer.Start, buffer.End);
                }
                if (result.IsCompleted)
                {
                    Fail(new IOException("the server closed the connection"));
                    return;
                }
            }
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    private void Fail(Exception e)
    {
        _failure ??= e;
        foreach (var id in _pending.Keys)
            if (_pending.TryRemove(id, out var tcs))
                tcs.TrySetException(new VectorStoreConnectionException($"connection lost: {e.Message}", e));
        try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception ex) when (ex is SocketException or ObjectDisposedException) { }
    }

    public async ValueTask DisposeAsync()
    {
        Fail(new ObjectDisposedException(nameof(ClientConnection)));
        if (_readLoop is not null) await _readLoop.ConfigureAwait(false);
        await _reader.CompleteAsync().ConfigureAwait(false);
        try { await _writer.CompleteAsync().ConfigureAwait(false); } catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException) { }
        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
