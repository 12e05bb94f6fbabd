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
