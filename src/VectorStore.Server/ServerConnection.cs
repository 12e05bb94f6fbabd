using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using VectorStore.Protocol;

namespace VectorStore.Server;

/// <summary>
/// One client connection. The read loop splits frames with <see cref="FrameParser"/> straight out of the pipe's
/// buffers, copies each payload into a pooled array and hands it to the thread pool, so requests on one connection
/// run concurrently and answer out of order (matched by request id). At most <see cref="ProtocolLimits.MaxInFlight"/>
/// run at once: beyond that the loop stops reading, and TCP flow control pushes back on the client.
/// Responses are serialised by a write lock. Timeouts are enforced by the server's sweeper through
/// <see cref="CheckTimeouts"/>. Thread-safety: public members may be called from any thread.
/// </summary>
internal sealed class ServerConnection
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly RequestDispatcher _dispatcher;
    private readonly ServerOptions _options;
    private readonly TokenAuthenticator _auth;
    /// <summary>Largest frame accepted before the handshake: a Hello with the longest token, rounded up.</summary>
    internal const int PreHandshakeMaxFrameBytes = 4096;

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SemaphoreSlim _inFlight;
    private readonly Stack<RequestWork> _workPool = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _writeAbort = new();
    private readonly long _connectedAt = Stopwatch.GetTimestamp();
    private int _pending;
    private long _lastActivity = Stopwatch.GetTimestamp();
    private long _frameStartedAt;
    private long _writeStartedAt;
    private volatile bool _handshakeDone;
    private volatile bool _broken;
    private volatile bool _throttled;

    public ServerConnection(Socket socket, RequestDispatcher dispatcher, ServerOptions options, TokenAuthenticator auth)
    {
        _socket = socket;
        _socket.NoDelay = true;
        _stream = new NetworkStream(socket, ownsSocket: true);
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 4096, leaveOpen: true));
        _writer = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 64 * 1024, leaveOpen: true));
        _dispatcher = dispatcher;
        _options = options;
        _auth = auth;
        _inFlight = new SemaphoreSlim(options.Limits.MaxInFlight, options.Limits.MaxInFlight);
    }

    /// <summary>Stops reading new requests; in-flight ones finish and are answered.</summary>
    public void StopReading() => Cancel(_stop);

    /// <summary>Closes the connection now, abandoning in-flight responses.</summary>
    public void Abort(string reason)
    {
        _options.Log?.Invoke($"closing connection {_socket.RemoteEndPoint}: {reason}");
        _broken = true;
        Cancel(_stop);
        Cancel(_writeAbort);
        try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    private static void Cancel(CancellationTokenSource cts)
    {
        try { cts.Cancel(); } catch (ObjectDisposedException) { }
    }

    /// <summary>Called periodically by the server: closes connections past a handshake, frame, write or idle deadline.</summary>
    public void CheckTimeouts(long now)
    {
        if (!_handshakeDone && Stopwatch.GetElapsedTime(_connectedAt, now) > _options.HandshakeTimeout) Abort("handshake timeout");
        else if (!_throttled && Volatile.Read(ref _frameStartedAt) is long f and not 0 && Stopwatch.GetElapsedTime(f, now) > _options.FrameTimeout) Abort("frame timeout (client stalled mid-frame)");
        else if (Volatile.Read(ref _writeStartedAt) is long w and not 0 && Stopwatch.GetElapsedTime(w, now) > _options.WriteTimeout) Abort("write timeout (client not reading)");
        else if (Volatile.Read(ref _pending) == 0 && Volatile.Read(ref _frameStartedAt) == 0
                 && Stopwatch.GetElapsedTime(Volatile.Read(ref _lastActivity), now) > _options.IdleTimeout) Abort("idle timeout");
    }

    public async Task RunAsync()
    {
        try
        {
            await ReadLoopAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The peer went away or a timeout/shutdown cancelled the read: nothing to answer.
        }
        catch (Exception e)
        {
            _options.Log?.Invoke($"connection loop failed: {e}");
        }
        finally
        {
            await DrainAndCloseAsync().ConfigureAwait(false);
        }
    }

    private async Task ReadLoopAsync()
    {
        var token = _stop.Token;
        int maxFrame = _options.Limits.MaxFrameBytes;
        while (true)
        {
            var result = await _reader.ReadAsync(token).ConfigureAwait(false);
            var buffer = result.Buffer;
            Volatile.Write(ref _lastActivity, Stopwatch.GetTimestamp());
            bool close = false, consumed = false;
            try
            {
                while (!close)
                {
                    FrameHeader header = default;
                    FrameStatus status;
                    ReadOnlySequence<byte> payload;
                    SequencePosition end;
                    try
                    {
                        // Before authentication only a Hello-sized frame is accepted, so an anonymous client cannot
                        // make the server buffer a maximum-size frame.
                        status = FrameParser.TryRead(buffer, _handshakeDone ? maxFrame : PreHandshakeMaxFrameBytes, out header, out payload, out end);
                    }
                    catch (ProtocolException e)
                    {
                        // A bad header leaves no way to find the next frame boundary: answer, then close.
                        await SendAsync((byte)Opcode.Error, header.RequestId, new ErrorResponse(e.Code, e.Message)).ConfigureAwait(false);
                        return;
                    }
                    if (status == FrameStatus.Incomplete) break;
                    if (!_handshakeDone)
                    {
                        close = !await HandshakeAsync(header, payload).ConfigureAwait(false);
                    }
                    else
                    {
                        if (!_inFlight.Wait(0))
                        {
                            // Backpressure: the client is not stalling, we are. The frame clock must not run meanwhile.
                            _throttled = true;
                            try { await _inFlight.WaitAsync(token).ConfigureAwait(false); }
                            finally { _throttled = false; }
                        }
                        Dispatch(header, payload);
                    }
                    buffer = buffer.Slice(end);
                    consumed = true;
                }
                // The frame clock starts when the first byte of a frame arrives and keeps running while it dribbles in.
                if (buffer.IsEmpty) Volatile.Write(ref _frameStartedAt, 0);
                else if (consumed || _frameStartedAt == 0) Volatile.Write(ref _frameStartedAt, Stopwatch.GetTimestamp());
            }
            finally
            {
                _reader.AdvanceTo(buffer.Start, buffer.End);
            }
            if (close || result.IsCompleted || result.IsCanceled) return;
        }
    }

    private async ValueTask<bool> HandshakeAsync(FrameHeader header, ReadOnlySequence<byte> payload)
    {
        ErrorResponse? error = null;
        if (header.Opcode != (byte)Opcode.Hello)
        {
            error = new ErrorResponse(ErrorCode.HandshakeRequired, "the first frame must be Hello");
        }
        else
        {
            try
            {
                var hello = HelloRequest.Read(payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray());
                if (hello.Version != ProtocolConstants.Version)
                    error = new ErrorResponse(ErrorCode.UnsupportedVersion, $"protocol version {hello.Version} is not supported; this server speaks {ProtocolConstants.Version}");
                else if (!_auth.Verify(hello.Token))
                    error = new ErrorResponse(ErrorCode.AuthFailed, "authentication failed");
            }
            catch (ProtocolException e)
            {
                error = new ErrorResponse(e.Code, e.Message);
            }
        }
        if (error is not null)
        {
            await SendAsync((byte)Opcode.Error, header.RequestId, error).ConfigureAwait(false);
            return false;
        }
        _handshakeDone = true;
        await SendAsync((byte)Opcode.Hello | ProtocolConstants.ResponseBit, header.RequestId,
            new HelloResponse(ProtocolConstants.Version, _options.Limits)).ConfigureAwait(false);
        return true;
    }

    private void Dispatch(FrameHeader header, ReadOnlySequence<byte> payload)
    {
        int length = (int)payload.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        payload.CopyTo(buffer);
        Interlocked.Increment(ref _pending);
        RequestWork work;
        lock (_workPool) work = _workPool.Count > 0 ? _workPool.Pop() : new RequestWork(this);
        work.Set(header, buffer, length);
        ThreadPool.UnsafeQueueUserWorkItem(work, preferLocal: false);
    }

    /// <summary>
    /// A queued request. Pooled per connection (at most MaxInFlight exist) so dispatching a frame allocates nothing;
    /// the payload lives in a pooled array until the handler is done with it.
    /// </summary>
    private sealed class RequestWork(ServerConnection owner) : IThreadPoolWorkItem
    {
        private FrameHeader _header;
        private byte[] _buffer = [];
        private int _length;

        public void Set(FrameHeader header, byte[] buffer, int length) => (_header, _buffer, _length) = (header, buffer, length);

        public void Execute()
        {
            var (header, buffer, length) = (_header, _buffer, _length);
            _buffer = [];
            lock (owner._workPool) owner._workPool.Push(this);
            owner.Execute(header, buffer, length);
        }
    }

    private void Execute(FrameHeader header, byte[] buffer, int length)
    {
        IWireMessage response;
        byte opcode;
        try
        {
            response = _dispatcher.Execute(header.Opcode, buffer.AsSpan(0, length));
            opcode = (byte)(header.Opcode | ProtocolConstants.ResponseBit);
        }
        catch (Exception e)
        {
            response = _dispatcher.ErrorFor(e);
            opcode = (byte)Opcode.Error;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        ValueTask send;
        try
        {
            send = SendAsync(opcode, header.RequestId, response);
        }
        catch
        {
            Completed();
            throw;
        }
        // The usual case completes synchronously: no state machine, no allocation.
        if (send.IsCompletedSuccessfully) Completed();
        else _ = AwaitSendAsync(send);
    }

    private async Task AwaitSendAsync(ValueTask send)
    {
        try
        {
            await send.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _options.Log?.Invoke($"response write failed: {e}");
            Abort("response write failed");
        }
        finally
        {
            Completed();
        }
    }

    private void Completed()
    {
        Interlocked.Decrement(ref _pending);
        _inFlight.Release();
    }

    private async ValueTask SendAsync(byte opcode, uint requestId, IWireMessage message)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_broken) return;
            Volatile.Write(ref _writeStartedAt, Stopwatch.GetTimestamp());
            FrameWriter.Write(_writer, opcode, requestId, message);
            await _writer.FlushAsync(_writeAbort.Token).ConfigureAwait(false);
            Volatile.Write(ref _lastActivity, Stopwatch.GetTimestamp());
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            _broken = true;
            Cancel(_stop);
        }
        finally
        {
            Volatile.Write(ref _writeStartedAt, 0);
            _writeLock.Release();
        }
    }

    private async Task DrainAndCloseAsync()
    {
        // Answer what is already executing before closing (graceful shutdown and client half-close alike).
        var deadline = Stopwatch.GetTimestamp();
        while (Volatile.Read(ref _pending) > 0 && !_broken && Stopwatch.GetElapsedTime(deadline) < _options.DrainTimeout)
            await Task.Delay(5).ConfigureAwait(false);
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            _broken = true;
            await _reader.CompleteAsync().ConfigureAwait(false);
            try { await _writer.CompleteAsync().ConfigureAwait(false); } catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException) { }
            try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
