using VectorStore.Protocol;

namespace VectorStore.Client;

/// <summary>The connection to the server failed or was lost before the response arrived. (CLI exit code 2.)</summary>
public sealed class VectorStoreConnectionException : VectorStoreException
{
    /// <summary>Creates the exception.</summary>
    public VectorStoreConnectionException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The server refused the auth token. (CLI exit code 2.)</summary>
public sealed class AuthenticationFailedException : VectorStoreException
{
    /// <summary>Creates the exception.</summary>
    public AuthenticationFailedException(string message) : base(message) { }
}

/// <summary>A request exceeded a server limit (frame size, batch size, k, dimension, response size). (CLI exit code 1.)</summary>
public sealed class LimitExceededException : InvalidArgumentException
{
    /// <summary>Creates the exception.</summary>
    public LimitExceededException(string message) : base(message) { }
}

/// <summary>Any other error frame from the server (storage failure, unsupported operation, protocol mismatch).</summary>
public sealed class RemoteErrorException : VectorStoreException
{
    /// <summary>Creates the exception.</summary>
    public RemoteErrorException(ErrorCode code, string message) : base($"server error {code}: {message}") => Code = code;

    /// <summary>The code of the error frame.</summary>
    public ErrorCode Code { get; }
}

internal static class RemoteErrors
{
    /// <summary>The typed exception for an error frame: the same types the in-process API throws where one exists.</summary>
    public static Exception ToException(ErrorResponse e) => e.Code switch
    {
        ErrorCode.InvalidVector => new InvalidVectorException(e.Message),
        ErrorCode.InvalidArgument => new InvalidArgumentException(e.Message),
        ErrorCode.LimitExceeded => new LimitExceededException(e.Message),
        ErrorCode.AuthFailed => new AuthenticationFailedException(e.Message),
        _ => new RemoteErrorException(e.Code, e.Message),
    };
}
