using VectorStore.Protocol;

namespace VectorStore.Client;

/// <summary>Any other error frame from the server (storage failure, unsupported operation, protocol mismatch).</summary>
public sealed class RemoteErrorException : VectorStoreException
{
    /// <summary>Creates the exception.</summary>
    public RemoteErrorException(ErrorCode code, string message) : base($"server error {code}: {message}") => Code = code;

    /// <summary>The code of the error frame.</summary>
    public ErrorCode Code { get; }
}
