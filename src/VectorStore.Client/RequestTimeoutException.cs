namespace VectorStore.Client;

/// <summary>
/// No response to a read or search arrived within <see cref="ClientOptions.RequestTimeout"/>: the server stalled or
/// the network dropped the connection without a reset. The client retired the connection (the calls already on it run
/// to their end; it closes once they have), and the next call opens a new one. (CLI exit code 2.)
/// </summary>
public sealed class RequestTimeoutException : VectorStoreException
{
    /// <summary>Creates the exception.</summary>
    public RequestTimeoutException(string message) : base(message) { }
}
