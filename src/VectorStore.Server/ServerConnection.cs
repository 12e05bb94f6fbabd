using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using VectorStore.Memory;
using VectorStore.Protocol;

namespace VectorStore.Server;

/// <summary>
/// One client connection. After the optional TLS handshake, the read loop splits frames straight out of the pipe's
/// buffers: as soon as a frame header announces a request, the request's memory is reserved in the server-wide
/// <see cref="MemoryBudget"/> (waiting, and so not reading, while it is spent) and its payload is copied into its own
/// array as the bytes arrive, so the pipe never holds more than one read's worth. Complete requests go to the thread
/// pool, so requests on one connection run concurrently and answer out of order (matched by request id). At most
/// <see cref="ProtocolLimits.MaxInFlight"/> run at once: beyond that the loop stops reading, and TCP flow control
/// pushes back on the client. Responses are serialised by a write lock. Timeouts are enforced by the server's
/// sweeper through <see cref="CheckTimeouts"/>. No exception escapes a timer callback or a thread-pool work item:
/// anything unexpected is logged and closes this connection only. Thread-safety: public members may be called from
/// any thread.
/// </summary>
internal sealed class ServerConnection
{
    /// <summary>Largest frame accepted before the handshake: a Hello with the longest token, rounded up.</summary>
    internal const int PreHandshakeMaxFrameBytes = 4096;

    /// <summary>Arrays from this size on live on the large-object heap, reclaimed only by full collections.</summary>
    private const int LargeObjectBytes = 85_000;

    private readonly Socket _socket;
    private readonly string _remote;
    private readonly NetworkStream _networkStream;
    private readonly ServerContext _context;
    private readonly ServerOptions _options;
    private Stream _stream;
    private PipeReader? _reader;
    private PipeWriter? _writer;

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
    private bool _authenticated;
    /// <summary>Version agreed in Hello (the client's, when within MinVersion..Version); read by request handlers.</summary>
    private ushort _version = ProtocolConstants.Version;
    private volatile bool _broken;
    private volatile bool _throttled;
    /// <summary>The request whose payload is still arriving (read loop only).</summary>
    private IncomingRequest? _incoming;

    public ServerConnection(Socket socket, ServerContext context)
    {
        _socket = socket;
        // Read once: after the socket is disposed RemoteEndPoint throws, and Abort runs on the sweeper's timer thread.
        _remote = socket.RemoteEndPoint?.ToString() ?? "(unknown peer)";
        _socket.NoDelay = true;
        _networkStream = new NetworkStream(socket, ownsSocket: true);
        _stream = _networkStream;
        _context = context;
        _options = context.Options;
        _inFlight = new SemaphoreSlim(_options.Limits.MaxInFlight, _options.Limits.MaxInFlight);
    }

    /// <summary>This connection's place in <see cref="ConnectionAdmission"/>'s handshake pool; guarded by its lock.</summary>
    internal LinkedListNode<ServerConnection>? AdmissionNode { get; set; }

    /// <summary>Stops reading new requests; in-flight ones finish and are answered.</summary>
    public void StopReading() => Cancel(_stop);

    /// <summary>Closes the connection now, abandoning in-flight responses. Never throws.</summary>
    public void Abort(string reason)
    {
        _options.Log?.Invoke($"closing connection {_remote}: {reason}");
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
        else if (!_throttled && Volatile.Read(ref _pending) == 0 && Volatile.Read(ref _frameStartedAt) == 0
                 && Stopwatch.GetElapsedTime(Volatile.Read(ref _lastActivity), now) > _options.IdleTimeout) Abort("idle timeout");
    }

    public async Task RunAsync()
    {
        try
        {
            if (_context.Tls is { } tls)
            {
                var ssl = new SslStream(_networkStream, leaveInnerStreamOpen: false);
                _stream = ssl;
                await ssl.AuthenticateAsServerAsync(tls, _stop.Token).ConfigureAwait(false);
            }
            _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 4096, leaveOpen: true));
            _writer = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 64 * 1024, leaveOpen: true));
            await ReadLoopAsync(_reader).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // The peer went away or a timeout/shutdown cancelled the read: nothing to answer.
        }
        catch (AuthenticationException e)
        {
            _options.Log?.Invoke($"TLS handshake with {_remote} failed: {e.Message}");
        }
        catch (Exception e)
        {
            _options.Log?.Invoke($"connection loop failed: {e}");
        }
        finally
        {
            await DrainAndCloseAsync().ConfigureAwait(false);
            if (_incoming is { } partial)
            {
                // Admitted but never completed: give back its reservation.
                _incoming = null;
                partial.ReturnPayload();
                _inFlight.Release();
                _context.Budget.Release(partial.Charge, partial.Header.PayloadLength >= LargeObjectBytes);
            }
            _context.Admission.Leave(this, _authenticated);
        }
    }

    private async Task ReadLoopAsync(PipeReader reader)
    {
        var token = _stop.Token;
        while (true)
        {
            var result = await reader.ReadAsync(token).ConfigureAwait(false);
            var buffer = result.Buffer;
            Volatile.Write(ref _lastActivity, Stopwatch.GetTimestamp());
            bool close = false, finishedFrame = false;
            try
            {
                while (!close)
                {
                    if (_incoming is { } incoming)
                    {
                        if (!incoming.Fill(ref buffer)) break;
                        _incoming = null;
                        Dispatch(incoming);
                        finishedFrame = true;
                        continue;
                    }
                    if (buffer.Length < ProtocolConstants.HeaderSize) break;
                    FrameHeader header;
                    try
                    {
                        header = ReadHeader(buffer);
                    }
                    catch (ProtocolException e)
                    {
                        // A bad header leaves no way to find the next frame boundary: answer, then close.
                        await SendAsync((byte)Opcode.Error, 0, new ErrorResponse(e.Code, e.Message)).ConfigureAwait(false);
                        return;
                    }
                    if (!_handshakeDone)
                    {
                        long total = ProtocolConstants.HeaderSize + (long)header.PayloadLength;
                        if (buffer.Length < total) break;
                        close = !await HandshakeAsync(header, buffer.Slice(ProtocolConstants.HeaderSize, header.PayloadLength)).ConfigureAwait(false);
                        buffer = buffer.Slice(total);
                        finishedFrame = true;
                        continue;
                    }
                    long charge = await AdmitRequestAsync(header, token).ConfigureAwait(false);
                    buffer = buffer.Slice(ProtocolConstants.HeaderSize);
                    IncomingRequest request;
                    try
                    {
                        request = new IncomingRequest(header, charge);
                    }
                    catch
                    {
                        _inFlight.Release();
                        _context.Budget.Release(charge, largeObjects: false);
                        throw;
                    }
                    if (request.Fill(ref buffer))
                    {
                        Dispatch(request);
                        finishedFrame = true;
                    }
                    else
                    {
                        _incoming = request;
                    }
                }
                // The frame clock starts when the first byte of a frame arrives and keeps running while it dribbles in.
                if (buffer.IsEmpty && _incoming is null) Volatile.Write(ref _frameStartedAt, 0);
                else if (finishedFrame || _frameStartedAt == 0) Volatile.Write(ref _frameStartedAt, Stopwatch.GetTimestamp());
            }
            finally
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
            if (close || result.IsCompleted || result.IsCanceled) return;
        }
    }

    /// <summary>
    /// Decodes the header at the start of <paramref name="buffer"/>. Before the handshake only a Hello-sized frame is
    /// accepted, so an anonymous client cannot make the server buffer a large one; after it, a frame whose charge
    /// could never fit the memory budget is refused here, before anything is reserved or read.
    /// </summary>
    private FrameHeader ReadHeader(in ReadOnlySequence<byte> buffer)
    {
        Span<byte> h = stackalloc byte[ProtocolConstants.HeaderSize];
        buffer.Slice(0, ProtocolConstants.HeaderSize).CopyTo(h);
        var header = FrameParser.ParseHeader(h, _handshakeDone ? _options.Limits.MaxFrameBytes : PreHandshakeMaxFrameBytes);
        if (_handshakeDone && IncomingRequest.ChargeFor(header.PayloadLength) > _context.Budget.Capacity)
            throw new ProtocolException(ErrorCode.LimitExceeded,
                $"a frame of {header.PayloadLength + ProtocolConstants.HeaderBodySize} bytes can never fit this server's memory budget of " +
                $"{_context.Budget.Capacity} bytes (a request is charged twice its payload); the largest frame it accepts is {_context.Limits.MaxFrameBytes} bytes");
        return header;
    }

    /// <summary>
    /// Takes an in-flight slot and reserves the request's charge, waiting for either as long as needed. Waiting here
    /// is the server stalling, not the client, so the frame clock is stopped meanwhile and restarted afterwards.
    /// </summary>
    private async ValueTask<long> AdmitRequestAsync(FrameHeader header, CancellationToken token)
    {
        long charge = IncomingRequest.ChargeFor(header.PayloadLength);
        if (!_inFlight.Wait(0))
        {
            _throttled = true;
            try { await _inFlight.WaitAsync(token).ConfigureAwait(false); }
            finally { RestartFrameClock(); }
        }
        if (!_context.Budget.TryReserve(charge))
        {
            _throttled = true;
            try
            {
                await _context.Budget.ReserveAsync(charge, token).ConfigureAwait(false);
            }
            catch
            {
                _inFlight.Release();
                throw;
            }
            finally
            {
                RestartFrameClock();
            }
        }
        return charge;
    }

    /// <summary>
    /// Ends a wait of the server's: the frame clock restarts before the sweeper may look at it again, in that order (the
    /// other way round, a sweep in between saw the frame's start from before the wait and aborted a healthy client).
    /// </summary>
    private void RestartFrameClock()
    {
        Volatile.Write(ref _frameStartedAt, Stopwatch.GetTimestamp());
        _throttled = false;
    }

    private async ValueTask<bool> HandshakeAsync(FrameHeader header, ReadOnlySequence<byte> payload)
    {
        ErrorResponse? error = null;
        ushort version = 0;
        if (header.Opcode != (byte)Opcode.Hello)
        {
            error = new ErrorResponse(ErrorCode.HandshakeRequired, "the first frame must be Hello");
        }
        else
        {
            try
            {
                var hello = HelloRequest.Read(payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray());
                version = hello.Version;
                if (hello.Version is < ProtocolConstants.MinVersion or > ProtocolConstants.Version)
                    error = new ErrorResponse(ErrorCode.UnsupportedVersion,
                        $"protocol version {hello.Version} is not supported; this server speaks {ProtocolConstants.MinVersion}..{ProtocolConstants.Version}");
                else if (!_context.Auth.Verify(hello.Token))
                    error = new ErrorResponse(ErrorCode.AuthFailed, "authentication failed");
            }
            catch (ProtocolException e)
            {
                error = new ErrorResponse(e.Code, e.Message);
            }
        }
        if (error is null)
        {
            _authenticated = _context.Admission.TryPromote(this);
            if (!_authenticated)
                error = new ErrorResponse(ErrorCode.LimitExceeded, $"every one of the server's {_options.MaxConnections} connections is taken; try again later");
        }
        if (error is not null)
        {
            await SendAsync((byte)Opcode.Error, header.RequestId, error).ConfigureAwait(false);
            return false;
        }
        // Set before _handshakeDone (volatile) so request handlers that see the handshake done see the version too.
        _version = version;
        _handshakeDone = true;
        await SendAsync((byte)Opcode.Hello | ProtocolConstants.ResponseBit, header.RequestId,
            new HelloResponse(_version, _context.Limits)).ConfigureAwait(false);
        return true;
    }

    private void Dispatch(IncomingRequest request)
    {
        _context.Trim.NoteRequest();
        Interlocked.Increment(ref _pending);
        RequestWork work;
        lock (_workPool) work = _workPool.Count > 0 ? _workPool.Pop() : new RequestWork(this);
        work.Set(request);
        ThreadPool.UnsafeQueueUserWorkItem(work, preferLocal: false);
    }

    /// <summary>
    /// A request whose payload is being received: its header, its reserved charge and its own payload array, filled
    /// as bytes arrive so the pipe can release them at once.
    /// </summary>
    private sealed class IncomingRequest(FrameHeader header, long charge)
    {
        private int _filled;

        public FrameHeader Header { get; } = header;

        public long Charge { get; } = charge;

        // Pooled up to TransientBuffers.MaxPooledBytes, in a pool the idle trim empties; larger payloads get their own
        // array, which the collector reclaims (a pool would keep large arrays alive after use, outside any budget).
        public byte[] Payload { get; private set; } = TransientBuffers.Rent(Math.Max(header.PayloadLength, 1));

        /// <summary>The budget charge of a payload: the received bytes plus their decoded form.</summary>
        public static long ChargeFor(int payloadLength) => 2L * payloadLength;

        /// <summary>Moves bytes from the front of <paramref name="buffer"/>; true once the payload is complete.</summary>
        public bool Fill(ref ReadOnlySequence<byte> buffer)
        {
            int n = (int)Math.Min(buffer.Length, Header.PayloadLength - _filled);
            buffer.Slice(0, n).CopyTo(Payload.AsSpan(_filled));
            buffer = buffer.Slice(n);
            _filled += n;
            return _filled == Header.PayloadLength;
        }

        public void ReturnPayload()
        {
            TransientBuffers.Return(Payload);
            Payload = [];
        }
    }

    /// <summary>
    /// A queued request. Pooled per connection (at most MaxInFlight exist) so dispatching a frame allocates little;
    /// the payload lives in its array until the handler is done with it.
    /// </summary>
    private sealed class RequestWork(ServerConnection owner) : IThreadPoolWorkItem
    {
        private IncomingRequest? _request;

        public void Set(IncomingRequest request) => _request = request;

        public void Execute()
        {
            var request = _request!;
            _request = null;
            lock (owner._workPool) owner._workPool.Push(this);
            owner.Execute(request);
        }
    }

    /// <summary>Runs on the thread pool, where an escaping exception would end the process: nothing escapes.</summary>
    private void Execute(IncomingRequest request)
    {
        long held = request.Charge;
        // The payload and its decoded form are about the payload's size; a response about its own.
        bool large = request.Header.PayloadLength >= LargeObjectBytes;
        try
        {
            ValueTask<IWireMessage> pending;
            try
            {
                pending = _context.Dispatcher.Execute(request.Header.Opcode, request.Payload.AsSpan(0, request.Header.PayloadLength), _version);
            }
            catch (Exception e)
            {
                pending = ValueTask.FromException<IWireMessage>(e);
            }
            finally
            {
                request.ReturnPayload();
            }
            // An engine database always answers synchronously; a gateway's request completes later, on another thread.
            if (pending.IsCompleted) Respond(request.Header, pending, held, large);
            else _ = RespondLaterAsync(request.Header, pending, held, large);
        }
        catch (Exception e)
        {
            _options.Log?.Invoke($"request handling failed: {e}");
            Abort("request handling failed");
            Completed(held, large);
        }
    }

    private async Task RespondLaterAsync(FrameHeader header, ValueTask<IWireMessage> pending, long held, bool large)
    {
        // A ValueTask may be consumed once: its outcome is re-wrapped for Respond.
        ValueTask<IWireMessage> done;
        try
        {
            done = new(await pending.ConfigureAwait(false));
        }
        catch (Exception e)
        {
            done = ValueTask.FromException<IWireMessage>(e);
        }
        Respond(header, done, held, large);
    }

    /// <summary>Sends the response (or the error frame) of a completed request; nothing escapes.</summary>
    private void Respond(FrameHeader header, ValueTask<IWireMessage> done, long held, bool large)
    {
        try
        {
            IWireMessage response;
            byte opcode;
            try
            {
                response = done.Result;
                opcode = (byte)(header.Opcode | ProtocolConstants.ResponseBit);
            }
            catch (Exception e)
            {
                response = _context.Dispatcher.ErrorFor(e);
                opcode = (byte)Opcode.Error;
            }
            long responseBytes = ProtocolConstants.HeaderSize + (long)response.PayloadSize;
            _context.Budget.Charge(responseBytes);
            held += responseBytes;
            large |= responseBytes >= LargeObjectBytes;
            var send = SendAsync(opcode, header.RequestId, response);
            // The usual case completes synchronously: no state machine, no allocation.
            if (send.IsCompletedSuccessfully) Completed(held, large);
            else _ = AwaitSendAsync(send, held, large);
        }
        catch (Exception e)
        {
            _options.Log?.Invoke($"request handling failed: {e}");
            Abort("request handling failed");
            Completed(held, large);
        }
    }

    private async Task AwaitSendAsync(ValueTask send, long held, bool large)
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
            Completed(held, large);
        }
    }

    private void Completed(long held, bool large)
    {
        Interlocked.Decrement(ref _pending);
        _inFlight.Release();
        _context.Budget.Release(held, large);
    }

    private async ValueTask SendAsync(byte opcode, uint requestId, IWireMessage message)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_broken || _writer is null) return;
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
        try
        {
            // Answer what is already executing before closing (graceful shutdown and client half-close alike).
            var deadline = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref _pending) > 0 && !_broken && Stopwatch.GetElapsedTime(deadline) < _options.DrainTimeout)
                await Task.Delay(5).ConfigureAwait(false);
            await _writeLock.WaitAsync().ConfigureAwait(false);
            try
            {
                _broken = true;
                if (_reader is not null) await _reader.CompleteAsync().ConfigureAwait(false);
                if (_writer is not null)
                    try { await _writer.CompleteAsync().ConfigureAwait(false); } catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException or NotSupportedException) { }
                try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
                await _stream.DisposeAsync().ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
        }
        catch (Exception e)
        {
            // Closing must not fail the connection's task; the socket is released whatever happened above.
            _options.Log?.Invoke($"closing connection {_remote} failed: {e.Message}");
            _socket.Dispose();
        }
    }
}
