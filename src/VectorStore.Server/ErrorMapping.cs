using VectorStore.Protocol;

namespace VectorStore.Server;

/// <summary>Typed errors to error frames, shared by every request handler. Stateless.</summary>
internal static class ErrorMapping
{
    /// <summary>The error frame for <paramref name="e"/>; an unexpected failure is logged in full and reported as Internal.</summary>
    public static ErrorResponse For(Exception e, Action<string>? log)
    {
        var (code, message) = e switch
        {
            AggregateException { InnerExceptions.Count: > 0 } a => (For(a.InnerExceptions[0], log).Code, a.InnerExceptions[0].Message),
            ProtocolException p => (p.Code, p.Message),
            InvalidVectorException v => (ErrorCode.InvalidVector, v.Message),
            InvalidArgumentException a => (ErrorCode.InvalidArgument, a.Message),
            IdNotFoundException n => (ErrorCode.InvalidArgument, n.Message),
            UnavailableException u => (ErrorCode.Unavailable, u.Message),
            // Before the write reached the log (after it, the collection stops: CollectionFaultedException above).
            OutOfMemoryException => (ErrorCode.Unavailable, "the server ran out of memory for this request; nothing of it was acknowledged (retry later, or give the server more memory)"),
            StoreCorruptedException s => (ErrorCode.StorageError, s.Message),
            StorageFullException full => (ErrorCode.StorageFull, full.Message),
            StorageIoException sio => (ErrorCode.StorageError, sio.Message),
            ReadOnlyDatabaseException ro => (ErrorCode.NotSupported, ro.Message),
            IOException io => (ErrorCode.StorageError, io.Message),
            NotSupportedException ns => (ErrorCode.NotSupported, ns.Message),
            _ => (ErrorCode.Internal, $"internal error ({e.GetType().Name})"),
        };
        if (code == ErrorCode.Internal) log?.Invoke($"internal error: {e}");
        // What an operator must see: memory running out, and a collection stopped (with the cause's stack) until it reopens.
        else if (e is OutOfMemoryException or CollectionFaultedException) log?.Invoke($"unavailable: {e}");
        return new ErrorResponse(code, message);
    }

    /// <summary>Refuses a response of <paramref name="bytes"/> beyond the announced limit.</summary>
    public static void RequireResponseSize(long bytes, ProtocolLimits limits, string what)
    {
        if (bytes > limits.MaxResponseBytes)
            throw new ProtocolException(ErrorCode.LimitExceeded, $"{what} response would be {bytes} bytes, the limit is {limits.MaxResponseBytes}; ask for fewer ids, queries or a smaller k");
    }
}
