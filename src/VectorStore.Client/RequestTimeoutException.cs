namespace VectorStore.Client;

/// <summary>
/// No response arrived within <see cref="ClientOptions.RequestTimeout"/>: the server stalled or the network dropped
/// the connection without a reset. The request may or may not have been applied (a write is in doubt, as after a lost
/// connection); the client closed the connection, and the next call opens a new one. (CLI exit code 2.)
/// </summary>
public sealed class RequestTimeoutException : VectorStoreException
{
    /// <summary>Creates the exception.</summary>
    public RequestTimeoutException(string message) : base(message) { }
}
