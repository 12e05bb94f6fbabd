using VectorStore.Protocol;

namespace VectorStore.Client;

/// <summary>
/// The TLS handshake failed: the server's certificate is not trusted or not valid for its name, or one side does not
/// speak TLS. The message says which. (CLI exit code 2.)
/// </summary>
public sealed class VectorStoreTlsException : VectorStoreException
{
    /// <summary>Creates the exception.</summary>
    public VectorStoreTlsException(string message, Exception? inner = null) : base(message, inner) { }
}
