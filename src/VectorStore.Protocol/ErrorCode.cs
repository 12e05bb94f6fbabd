namespace VectorStore.Protocol;

/// <summary>The code carried by an error frame; the client maps each to a typed exception.</summary>
public enum ErrorCode : ushort
{
    /// <summary>Frame header is malformed (length out of range, reserved bits set); the connection is closed.</summary>
    BadFrame = 1,

    /// <summary>The handshake asked for a protocol version this server does not speak; the connection is closed.</summary>
    UnsupportedVersion = 2,

    /// <summary>Missing or wrong auth token; the connection is closed.</summary>
    AuthFailed = 3,

    /// <summary>The opcode is not known; the connection stays open.</summary>
    UnknownOpcode = 4,

    /// <summary>The payload does not decode (truncated, trailing bytes, bad UTF-8); the connection stays open.</summary>
    BadPayload = 5,

    /// <summary>The request is well-formed but invalid (bad spec, unknown collection, duplicate id).</summary>
    InvalidArgument = 6,

    /// <summary>A vector has the wrong dimension or a non-finite value.</summary>
    InvalidVector = 7,

    /// <summary>A server limit was exceeded (frame size, batch size, k, dimension, response size).</summary>
    LimitExceeded = 8,

    /// <summary>The server does not support this operation (for example flush on a build without storage).</summary>
    NotSupported = 9,

    /// <summary>A request other than Hello arrived before the handshake; the connection is closed.</summary>
    HandshakeRequired = 10,

    /// <summary>The server is shutting down and takes no new requests.</summary>
    ShuttingDown = 11,

    /// <summary>Stored data could not be read or written.</summary>
    StorageError = 12,

    /// <summary>An unexpected server failure; the request had no effect that was acknowledged.</summary>
    Internal = 13,

    /// <summary>
    /// A distributed database could not complete the call in time (a shard did not answer a search, a write was not
    /// acknowledged by enough copies); nothing was acknowledged and retrying is safe. The connection stays open.
    /// </summary>
    Unavailable = 14,

    /// <summary>
    /// The server's disk is full, or below the free-space reserve its database keeps (<c>MinFreeDiskBytes</c>): the
    /// write was refused or failed, nothing of it was acknowledged or kept, and retrying succeeds once space is freed.
    /// Sent on every protocol version (older clients see an unknown code). The connection stays open.
    /// </summary>
    StorageFull = 15,
}
