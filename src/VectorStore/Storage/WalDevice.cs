using FASTER.core;

namespace VectorStore.Storage;

/// <summary>A write of the log's segment files that failed: the OS error code as FASTER's device reported it, and where.</summary>
/// <param name="ErrorCode">errno when known (5 EIO, 28 ENOSPC); FASTER's managed device reports every failure as <see cref="uint.MaxValue"/>.</param>
/// <param name="Path">The segment file.</param>
/// <param name="Offset">Offset of the write in that file.</param>
/// <param name="Bytes">Bytes the write carried.</param>
internal sealed record DeviceWriteFailure(uint ErrorCode, string Path, long Offset, uint Bytes)
{
    /// <summary>errno of a full disk.</summary>
    public const uint NoSpace = 28;

    /// <summary>errno of an I/O error.</summary>
    public const uint Io = 5;
}

/// <summary>
/// The <see cref="IDevice"/> the write-ahead log writes its segment files through: FASTER's own device underneath,
/// plus what FASTER does not keep. FASTER's managed device turns a failed write into an error code
/// (<see cref="uint.MaxValue"/>, the errno lost) and its log then fails every later commit with an untyped
/// <c>CommitFailureException</c>; this layer records the first failed write (file, offset, size) so the log can name
/// the file and tell a full disk from an I/O error, and lets tests inject faults (<see cref="DeviceFaults"/>).
/// Thread-safety: FASTER calls it from many threads; the failure is recorded once, atomically.
/// </summary>
internal sealed class WalDevice : IDevice
{
    private readonly IDevice _inner;
    private readonly Func<long, string> _segmentPath;
    private readonly DeviceFaults? _faults;
    private DeviceWriteFailure? _failure;

    /// <summary>Wraps <paramref name="inner"/>, whose segment files <paramref name="segmentPath"/> names by segment number.</summary>
    public WalDevice(IDevice inner, Func<long, string> segmentPath, DeviceFaults? faults)
    {
        _inner = inner;
        _segmentPath = segmentPath;
        _faults = faults;
    }

    /// <summary>The first write that failed on this device, or null.</summary>
    public DeviceWriteFailure? Failure => Volatile.Read(ref _failure);

    public uint SectorSize => _inner.SectorSize;
    public string FileName => _inner.FileName;
    public long Capacity => _inner.Capacity;
    public long SegmentSize => _inner.SegmentSize;
    public int StartSegment => _inner.StartSegment;
    public int EndSegment => _inner.EndSegment;

    public int ThrottleLimit
    {
        get => _inner.ThrottleLimit;
        set => _inner.ThrottleLimit = value;
    }

    public void Initialize(long segmentSize, LightEpoch epoch = null!, bool omitSegmentIdFromFilename = false) =>
        _inner.Initialize(segmentSize, epoch, omitSegmentIdFromFilename);

    public bool Throttle() => _inner.Throttle();

    public bool TryComplete() => _inner.TryComplete();

    public void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context) =>
        Write(segmentId, (long)destinationAddress, numBytesToWrite, callback, context,
            (bytes, cb) => _inner.WriteAsync(sourceAddress, segmentId, destinationAddress, bytes, cb, context));

    public void WriteAsync(IntPtr alignedSourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
    {
        long segmentSize = _inner.SegmentSize;
        long segment = segmentSize > 0 ? (long)alignedDestinationAddress / segmentSize : 0;
        long offset = segmentSize > 0 ? (long)alignedDestinationAddress % segmentSize : (long)alignedDestinationAddress;
        Write(segment, offset, numBytesToWrite, callback, context,
            (bytes, cb) => _inner.WriteAsync(alignedSourceAddress, alignedDestinationAddress, bytes, cb, context));
    }

    private void Write(long segment, long offset, uint bytes, DeviceIOCompletionCallback callback, object context, Action<uint, DeviceIOCompletionCallback> write)
    {
        void Record(uint code) => Interlocked.CompareExchange(ref _failure, new DeviceWriteFailure(code, _segmentPath(segment), offset, bytes), null);
        DeviceIOCompletionCallback recording = (code, n, ctx) =>
        {
            if (code != 0) Record(code);
            callback(code, n, ctx);
        };
        switch (_faults?.Next())
        {
            case null:
                write(bytes, recording);
                return;
            case DeviceFaultKind.Eio:
                Fail(DeviceWriteFailure.Io);
                return;
            case DeviceFaultKind.NoSpace:
                Fail(DeviceWriteFailure.NoSpace);
                return;
            case DeviceFaultKind.ShortWrite:
                uint half = bytes / 2 / SectorSize * SectorSize;
                if (half == 0) Fail(DeviceWriteFailure.Io);
                else write(half, (code, _, ctx) =>
                {
                    Record(code == 0 ? DeviceWriteFailure.Io : code);
                    callback(code == 0 ? DeviceWriteFailure.Io : code, half, ctx);
                });
                return;
            case DeviceFaultKind.TornPage:
                write(Math.Min(bytes, SectorSize), (code, _, ctx) => callback(code, code == 0 ? bytes : 0, ctx));
                return;
        }

        // Completions of a real device arrive on another thread; an injected failure does too, so FASTER's flush
        // bookkeeping sees the same ordering as with a real error.
        void Fail(uint code)
        {
            Record(code);
            ThreadPool.UnsafeQueueUserWorkItem(_ => callback(code, 0, context), null);
        }
    }

    public void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context) =>
        _inner.ReadAsync(segmentId, sourceAddress, destinationAddress, readLength, callback, context);

    public void ReadAsync(ulong alignedSourceAddress, IntPtr alignedDestinationAddress, uint aligned_read_length, DeviceIOCompletionCallback callback, object context) =>
        _inner.ReadAsync(alignedSourceAddress, alignedDestinationAddress, aligned_read_length, callback, context);

    // Removing segments and closing are serialized, and removals stop once the device is closed. FASTER 2.6.5 removes
    // segments behind a truncation from its own threads while a log reset may close the device: both then dispose the
    // same segment's handle pool, and AsyncPool.Dispose is not safe for two callers (one can wait for a handle the
    // other has already taken and disposed, forever). Seen as a 10 s stall of a reset after a failed truncation
    // commit (the close abandoned after CloseWait; notes/issue-20-diskfull.md).
    private readonly Lock _removeGate = new();
    private bool _closed;

    private void Remove(Action remove, AsyncCallback? callback, IAsyncResult? result)
    {
        lock (_removeGate)
        {
            if (!_closed)
            {
                remove();
                return;
            }
        }
        callback?.Invoke(result!);
    }

    public void TruncateUntilAddressAsync(long toAddress, AsyncCallback callback, IAsyncResult result) =>
        Remove(() => _inner.TruncateUntilAddressAsync(toAddress, callback, result), callback, result);

    public void TruncateUntilAddress(long toAddress) => Remove(() => _inner.TruncateUntilAddress(toAddress), null, null);

    public void TruncateUntilSegmentAsync(int toSegment, AsyncCallback callback, IAsyncResult result) =>
        Remove(() => _inner.TruncateUntilSegmentAsync(toSegment, callback, result), callback, result);

    public void TruncateUntilSegment(int toSegment) => Remove(() => _inner.TruncateUntilSegment(toSegment), null, null);

    public void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result) =>
        Remove(() => _inner.RemoveSegmentAsync(segment, callback, result), callback, result);

    public void RemoveSegment(int segment) => Remove(() => _inner.RemoveSegment(segment), null, null);

    public long GetFileSize(int segment) => _inner.GetFileSize(segment);

    public void Reset() => _inner.Reset();

    /// <summary>
    /// Closes the inner device, waiting at most <see cref="CloseWait"/>. FASTER 2.6.5's
    /// <c>ManagedLocalStorageDevice.Dispose</c> waits for every file handle its pools have counted out, and a pool can
    /// count a handle it never gets back (<c>AsyncPool.GetOrAdd</c> counts before it creates, and nothing uncounts a
    /// creation that throws): a database close hung there, with no I/O left in flight, in the crash-point tests
    /// (notes/hangs.md). By then FASTER's log is disposed and every acknowledged write is durable, so a close that has
    /// not finished in time is left to finish on its own (background) thread; the process's exit closes the handles it
    /// holds.
    /// </summary>
    public void Dispose()
    {
        // A thread of its own, not the pool's: a starved pool must not turn an ordinary close into an abandoned one.
        Exception? failed = null;
        var closing = new Thread(() =>
        {
            try
            {
                lock (_removeGate)
                {
                    _closed = true;
                    _inner.Dispose();
                }
            }
            catch (Exception e) { failed = e; }
        }) { IsBackground = true, Name = "wal-device-close" };
        closing.Start();
        bool closed = closing.Join(CloseWait);
        if (failed is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failed).Throw();
        if (!closed)
            System.Diagnostics.Trace.TraceWarning($"the write-ahead log device of {_segmentPath(0)} did not close within {CloseWait.TotalSeconds:F0} s (a FASTER handle pool waits for a handle it lost); its file handles stay open until the process exits");
        if (_faults is { FailClose: true }) throw new IOException($"injected: closing {_segmentPath(0)} failed");
    }

    /// <summary>How long <see cref="Dispose"/> waits for FASTER's device to close. 10 seconds.</summary>
    internal static TimeSpan CloseWait { get; set; } = TimeSpan.FromSeconds(10);
}
