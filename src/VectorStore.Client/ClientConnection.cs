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

    /// <summary>Whether the connection takes no new request: it failed, or was retired after a timed-out request.</summary>
    public bool IsFaulted => _failure is not null || _retired;

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
            EnableKeepAlive(socket);
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
            if (e is SocketException or IOException or NotSentException)
                throw new VectorStoreConnectionException($"cannot connect to {host}:{port}: {e.Message}", e);
            // A TLS server drops a plain Hello without a word; say what to try.
            if (e is VectorStoreConnectionException && c is not null && !(options.UseTls || options.TlsCaFile is not null))
                throw new VectorStoreConnectionException($"{e.Message.TrimEnd('.', ' ')} during the handshake with {host}:{port} (if the server was started with --tls-cert, set ClientOptions.UseTls)", e);
            throw;
        }
    }

    /// <summary>
    /// TCP keep-alive, so that a connection to a host that vanished without a reset (power loss, a partition) fails after
    /// about two minutes of silence instead of holding its unbounded calls (writes, builds) for ever: probes after 60 s
    /// idle, every 10 s, five unanswered ones fail it. Where the system does not take a setting, its default stays.
    /// </summary>
    private static void EnableKeepAlive(Socket socket)
    {
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, 60);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, 10);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, 5);
        }
        catch (Exception e) when (e is SocketException or PlatformNotSupportedException) { }
    }

    /// <summary>
    /// Sends one request and waits for its response. Cancelling abandons the wait (the response is dropped). Past
    /// <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/>: never) the request fails with
    /// <see cref="RequestTimeoutException"/> and the connection is retired: it takes no new request, the requests
    /// already on it run to their own end (an unbounded build or snapshot is not cut short by another call's timeout),
    /// and it closes once none is left, or at once when the timed-out request's frame is still being written (a send
    /// blocked on a stalled server's full buffer ends only with the socket). A connection that is closed or retired
    /// before any byte of the request went out throws <see cref="NotSentException"/>: the caller may send it on a new
    /// connection whatever the request is.
    /// </summary>
    public async Task<RawResponse> SendAsync(byte opcode, IWireMessage message, TimeSpan timeout, CancellationToken ct)
    {
        ThrowIfNotTakingRequests();
        int size = message.PayloadSize;
        if ((long)size + ProtocolConstants.HeaderBodySize > ServerLimits.MaxFrameBytes)
            throw new LimitExceededException($"request of {size} bytes exceeds the server's frame limit {ServerLimits.MaxFrameBytes}; send smaller batches");
        uint id = unchecked((uint)Interlocked.Increment(ref _nextId));
        var tcs = new TaskCompletionSource<RawResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var deadline = timeout == Timeout.InfiniteTimeSpan ? null : new CancellationTokenSource(timeout);
        _pending[id] = tcs;
        using var expiry = deadline?.Token.UnsafeRegister(_ => Expire(id, opcode, timeout), null) ?? default;
        // The wait for the write lock ends with the deadline too: a request queued behind another's send blocked on a
        // server that stopped reading would otherwise wait as long as that send (for ever, for an unbounded write).
        using var lockWait = deadline is null ? null : CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            await _writeLock.WaitAsync(lockWait?.Token ?? ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested && deadline is { IsCancellationRequested: true })
        {
            // Nothing of it went out; its deadline passed. The deadline's callbacks run in no promised order, so the
            // wait can end before the expiry has failed the request.
            return await ExpireNow(id, opcode, timeout, tcs).ConfigureAwait(false);
        }
        catch
        {
            Forget(id);
            throw;
        }
        try
        {
            // Marked as sending before the check, with a full fence: a deadline passing from here on sees the request
            // mid-send and closes the socket under its flush; one that passed before has retired the connection, which
            // the check sees (Expire retires, fences, then reads this).
            Interlocked.Exchange(ref _sendingId, id);
            ThrowIfNotTakingRequests();
            FrameWriter.Write(_writer, opcode, id, message);
            // No token here: a flush cancelled half-way would leave a partial frame and desynchronise the stream.
            await _writer.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException or NotSentException)
        {
            // This request's deadline passed meanwhile (and, mid-send, closed the socket under it): the timeout is what
            // happened. Its expiry may still be running on the timer's thread.
            if (deadline is { IsCancellationRequested: true }) return await ExpireNow(id, opcode, timeout, tcs).ConfigureAwait(false);
            Forget(id);
            // Nothing of it went out: the caller may send it elsewhere, whatever else failed the connection meanwhile.
            if (e is NotSentException) throw;
            Fail(e);
            throw new VectorStoreConnectionException($"connection lost while sending: {e.Message}", e);
        }
        catch
        {
            Forget(id);
            throw;
        }
        finally
        {
            Volatile.Write(ref _sendingId, NotSending);
            _writeLock.Release();
        }
        using var registration = ct.Register(() =>
        {
            if (_pending.TryRemove(id, out var t))
            {
                t.TrySetCanceled(ct);
                CloseIfRetiredAndIdle();
            }
        });
        return await tcs.Task.ConfigureAwait(false);
    }

    private const long NotSending = -1;

    /// <summary>
    /// Fails request <paramref name="id"/>, whose deadline has passed, with its timeout and returns its outcome: expired
    /// first (<see cref="Expire"/> acts once, whether here or on the timer's thread), then forgotten. The other order
    /// would leave a timer expiry still on its way nothing to fail, and the call hanging or sent again.
    /// </summary>
    private Task<RawResponse> ExpireNow(uint id, byte opcode, TimeSpan timeout, TaskCompletionSource<RawResponse> tcs)
    {
        Expire(id, opcode, timeout);
        Forget(id);
        return tcs.Task;
    }

    // The id of the request whose frame is being written (under the write lock), or NotSending.
    private long _sendingId = NotSending;

    // Set by a timed-out request: the connection takes no new request and closes once its pending ones are done.
    private volatile bool _retired;

    /// <summary>Thrown by <see cref="SendAsync"/> before any byte of the request went out: safe to send again elsewhere.</summary>
    internal sealed class NotSentException(string message, Exception? cause) : Exception(message, cause);

    private void ThrowIfNotTakingRequests()
    {
        if (_failure is { } f) throw new NotSentException($"connection lost: {f.Message}", f);
        if (_retired) throw new NotSentException("the connection was retired after a request timed out", null);
    }

    /// <summary>Whether the connection has no request in flight (a retired one closes itself then).</summary>
    public bool IsIdle => _pending.IsEmpty;

    private void Forget(uint id)
    {
        _pending.TryRemove(id, out _);
        CloseIfRetiredAndIdle();
    }

    private void CloseIfRetiredAndIdle()
    {
        if (_retired && _pending.IsEmpty && _failure is null) Fail(new IOException("the connection was retired after a request timed out"));
    }

    /// <summary>
    /// Fails request <paramref name="id"/> (if still waiting) with <see cref="RequestTimeoutException"/> and retires the
    /// connection, retiring it first so that no call woken by this failure can send on it.
    /// </summary>
    private void Expire(uint id, byte opcode, TimeSpan timeout)
    {
        if (!_pending.ContainsKey(id)) return;
        _retired = true;
        Interlocked.MemoryBarrier(); // before reading _sendingId: see SendAsync
        if (!_pending.TryRemove(id, out var tcs))
        {
            CloseIfRetiredAndIdle(); // answered in between: the connection is retired all the same, and closes when idle
            return;
        }
        string message = $"no response from {_endpoint} within {timeout.TotalSeconds:0.###} s to request 0x{opcode:X2} (ClientOptions.RequestTimeout): "
            + "the server stalled or the connection was dropped; a write may or may not have been applied. The next call opens a new connection";
        bool midSend = Volatile.Read(ref _sendingId) == id;
        tcs.TrySetException(new RequestTimeoutException(message));
        // Half a frame cannot be taken back: only closing the socket ends the blocked send, and the requests behind it.
        if (midSend) Fail(new TimeoutException(message));
        else CloseIfRetiredAndIdle();
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
                        {
                            tcs.TrySetResult(new RawResponse(header.Opcode, payload.ToArray()));
                            CloseIfRetiredAndIdle();
                        }
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
        // A send still inside its flush (its request already failed) ends once Fail has shut the socket: wait for it
        // before completing the writer, which is not thread-safe. Senders queued behind it find the connection failed
        // and send nothing.
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_readLoop is not null) await _readLoop.ConfigureAwait(false);
            await _reader.CompleteAsync().ConfigureAwait(false);
            try { await _writer.CompleteAsync().ConfigureAwait(false); } catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException) { }
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
