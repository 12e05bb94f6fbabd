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
    /// <summary>Writes a backup of the database under the server's backup directory (version 8).</summary>
    Backup = 0x43,

    /// <summary>Declares and builds a candidate compression generation (version 5).</summary>
    BuildGeneration = 0x60,

    /// <summary>Lists a collection's compression generations (version 5).</summary>
    ListGenerations = 0x61,

    /// <summary>Compares a candidate generation with the live one on a batch of queries (version 5).</summary>
    RunCanary = 0x62,

    /// <summary>Starts the shadow canary on live traffic (version 5).</summary>
    StartCanary = 0x63,

    /// <summary>Stops the shadow canary (version 5).</summary>
    StopCanary = 0x64,

    /// <summary>Serves a percentage of keyed searches with a candidate generation (version 5).</summary>
    SetExposure = 0x65,

    /// <summary>Makes a candidate generation live, optionally gated by its canary (version 5).</summary>
    Promote = 0x66,

    /// <summary>Makes the newest retired generation live again (version 5).</summary>
    Rollback = 0x67,

    /// <summary>Drops retired generations beyond the retention and failed candidates (version 5).</summary>
    CollectGenerations = 0x68,

    /// <summary>Sets a collection's lifecycle policy (version 5).</summary>
    SetLifecyclePolicy = 0x69,

    /// <summary>Reads the drift sensors of the live generation (version 5).</summary>
    GetDrift = 0x6A,

    /// <summary>Reads a collection's lifecycle policy (version 10).</summary>
    GetLifecyclePolicy = 0x6B,

    /// <summary>Error response (never a request).</summary>
    Error = 0xFF,
}
