namespace VectorStore.Protocol;

/// <summary>
/// Bytes that do not follow the wire protocol, or a request the server refuses by protocol rule. Carries the
/// <see cref="ErrorCode"/> sent back in the error frame.
/// </summary>
public sealed class ProtocolException : VectorStoreException
{
    /// <summary>Creates the exception.</summary>
    public ProtocolException(ErrorCode code, string message) : base(message) => Code = code;

    /// <summary>The error code for the error frame.</summary>
    public ErrorCode Code { get; }
}
