using VectorStore.Protocol;

namespace VectorStore.Client;

internal static class RemoteErrors
{
    /// <summary>The typed exception for an error frame: the same types the in-process API throws where one exists.</summary>
    public static Exception ToException(ErrorResponse e) => e.Code switch
    {
        ErrorCode.InvalidVector => new InvalidVectorException(e.Message),
        ErrorCode.InvalidArgument => new InvalidArgumentException(e.Message),
        ErrorCode.LimitExceeded => new LimitExceededException(e.Message),
        ErrorCode.AuthFailed => new AuthenticationFailedException(e.Message),
        ErrorCode.Unavailable => new UnavailableException(e.Message),
        ErrorCode.StorageFull => new StorageFullException(e.Message),
        _ => new RemoteErrorException(e.Code, e.Message),
    };
}
