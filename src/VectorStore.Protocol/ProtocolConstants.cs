namespace VectorStore.Protocol;

/// <summary>Fixed numbers of the wire protocol (data-format.md section 5).</summary>
public static class ProtocolConstants
{
    /// <summary>
    /// Newest protocol version spoken by this build. Version 2 appended <c>i64 bytesOnDisk</c> to the Info response;
    /// version 3 appends <c>u8 rawVectors</c> to the collection options (CreateCollection and Info) and
    /// <c>i64 residentBytes</c> to the Info response; version 4 adds declared fields to the collection options, field
    /// values to UpsertBatch and Get, a field filter and include flags to Search, and hit parts to the search response
    /// (data-format.md §5.5, §5.7); version 5 adds the compression-lifecycle opcodes (0x60..0x6A), the exposure key and
    /// segment tag to Search, each query's serving generation to the search response, and the live generation and
    /// training error to Info (§5.8); version 6 adds a field filter to ListIds (§5.5); version 7 adds to the GetDrift
    /// response whether the live generation has drift sensors and why not (§5.8); version 8 adds the Backup opcode (§5.9);
    /// version 9 adds incremental backups: a previous backup's name in the Backup request, linked bytes in its response;
    /// version 10 adds GetLifecyclePolicy (0x6B), which reads back what SetLifecyclePolicy set (§5.8).
    /// </summary>
    public const ushort Version = 10;

    /// <summary>First version with compression generations (the lifecycle opcodes and the fields that go with them).</summary>
    public const ushort LifecycleVersion = 5;

    /// <summary>First version whose ListIds carries a field filter.</summary>
    public const ushort FilteredListVersion = 6;

    /// <summary>First version whose GetDrift response says whether the live generation has drift sensors.</summary>
    public const ushort DriftSensorsVersion = 7;

    /// <summary>First version with the Backup opcode.</summary>
    public const ushort BackupVersion = 8;

    /// <summary>First version whose Backup request may name a previous backup to hard-link unchanged files from.</summary>
    public const ushort IncrementalBackupVersion = 9;

    /// <summary>First version with GetLifecyclePolicy.</summary>
    public const ushort PolicyReadVersion = 10;

    /// <summary>Oldest protocol version this build still speaks (server accepts it in Hello; client falls back to it).</summary>
    public const ushort MinVersion = 1;

    /// <summary>"VSTP" read as a little-endian u32: the first payload field of Hello.</summary>
    public const uint Magic = 0x50545356;

    /// <summary>Bytes of the length prefix.</summary>
    public const int LengthPrefixSize = 4;

    /// <summary>Bytes after the length prefix that every frame has: opcode, flags, reserved u16, request id.</summary>
    public const int HeaderBodySize = 8;

    /// <summary>Whole header: length prefix plus <see cref="HeaderBodySize"/>.</summary>
    public const int HeaderSize = LengthPrefixSize + HeaderBodySize;

    /// <summary>Set on the opcode of a response.</summary>
    public const byte ResponseBit = 0x80;

    /// <summary>Longest string field (collection names, specs, messages) in UTF-8 bytes.</summary>
    public const int MaxStringBytes = 4096;

    /// <summary>Longest auth token in bytes.</summary>
    public const int MaxTokenBytes = 1024;
}
