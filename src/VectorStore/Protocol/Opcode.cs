namespace VectorStore.Protocol;

/// <summary>
/// What a frame asks for or answers. A response carries its request's opcode with the high bit set
/// (<see cref="ProtocolConstants.ResponseBit"/>); <see cref="Error"/> answers any request that failed.
/// </summary>
public enum Opcode : byte
{
    /// <summary>First frame of a connection: magic, protocol version, optional auth token.</summary>
    Hello = 0x01,

    /// <summary>Liveness check with an empty payload.</summary>
    Ping = 0x02,

    /// <summary>Creates a collection.</summary>
    CreateCollection = 0x10,

    /// <summary>Drops a collection.</summary>
    DropCollection = 0x11,

    /// <summary>Lists collection names.</summary>
    ListCollections = 0x12,

    /// <summary>Options and statistics of one collection.</summary>
    Info = 0x13,

    /// <summary>Inserts or replaces a batch of vectors.</summary>
    UpsertBatch = 0x20,

    /// <summary>Deletes a batch of ids.</summary>
    Delete = 0x21,

    /// <summary>Fetches stored vectors and payloads for a batch of ids.</summary>
    Get = 0x22,

    /// <summary>Pages through the live ids in ascending order.</summary>
    ListIds = 0x23,

    /// <summary>One query.</summary>
    Search = 0x30,

    /// <summary>Several queries with the same options.</summary>
    SearchBatch = 0x31,

    /// <summary>Trains the codec and builds the index now.</summary>
    BuildIndex = 0x40,

    /// <summary>Makes every acknowledged write durable.</summary>
    Flush = 0x41,

    /// <summary>Writes a snapshot of the database.</summary>
    Snapshot = 0x42,

    /// <summary>Error response (never a request).</summary>
    Error = 0xFF,
}

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
}
