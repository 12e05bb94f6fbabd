using VectorStore.Protocol;

namespace VectorStore.Client;

/// <summary>The server refused the auth token. (CLI exit code 2.)</summary>
public sealed class AuthenticationFailedException : VectorStoreException
{
    /// <summary>Creates the exception.</summary>
    public AuthenticationFailedException(string message) : base(message) { }
}
