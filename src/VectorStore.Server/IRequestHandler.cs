using VectorStore.Protocol;

namespace VectorStore.Server;

/// <summary>
/// Runs one decoded request frame against whatever the server fronts: an engine database (<see cref="RequestDispatcher"/>,
/// always completing synchronously) or any <see cref="IVectorDatabaseClient"/> (<see cref="ClientRequestDispatcher"/>,
/// a cluster gateway, completing when the remote work does). Implementations are thread-safe.
/// </summary>
internal interface IRequestHandler
{
    /// <summary>
    /// Decodes <paramref name="payload"/> before returning (the caller recycles its buffer as soon as this returns)
    /// and runs the request; <paramref name="version"/> is the connection's protocol version. Decoding and argument
    /// errors may throw here or fault the returned task; both become error frames.
    /// </summary>
    ValueTask<IWireMessage> Execute(byte opcode, ReadOnlySpan<byte> payload, ushort version);

    /// <summary>The error frame for an exception thrown by <see cref="Execute"/> or its task.</summary>
    ErrorResponse ErrorFor(Exception e);
}
