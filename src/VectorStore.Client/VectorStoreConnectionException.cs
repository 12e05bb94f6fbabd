using VectorStore.Protocol;

namespace VectorStore.Client;

/// <summary>The connection to the server failed or was lost before the response arrived. (CLI exit code 2.)</summary>
public sealed class VectorStoreConnectionException : VectorStoreException
{
    /// <summary>Creates the exception.</summary>
    public VectorStoreConnectionException(string message, Exception? inner = null) : base(message, inner) { }
}
