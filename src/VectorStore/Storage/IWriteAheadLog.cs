namespace VectorStore.Storage;

/// <summary>
/// The append-only log a collection journals to. Keeps FASTER behind an internal seam so its quirks are defended in
/// one place and tests can damage its files. Addresses are opaque, increasing byte positions.
/// </summary>
/// <remarks>
/// Thread-safety: <see cref="Append"/> calls are serialized by the caller (the collection's write lock);
/// <see cref="Commit"/> may run concurrently with appends; <see cref="Scan"/> is for recovery, before any append.
/// </remarks>
internal interface IWriteAheadLog : IDisposable
{
    /// <summary>First address still in the log (everything before was truncated).</summary>
    long BeginAddress { get; }

    /// <summary>Address just past the last appended entry.</summary>
    long TailAddress { get; }

    /// <summary>Address up to which the log is known durable (as recovered or last committed).</summary>
    long CommittedAddress { get; }

    /// <summary>Appends one entry and returns the address just past it (a record boundary).</summary>
    long Append(ReadOnlySpan<byte> entry);

    /// <summary>Makes every entry appended so far durable (data, FASTER metadata and fsync); returns the address reached.</summary>
    long Commit();

    /// <summary>Entries in [<paramref name="from"/>, <paramref name="until"/>), each with its address and the next address.</summary>
    IEnumerable<LogEntry> Scan(long from, long until);

    /// <summary>
    /// Returns the current tail as a truncation point. Only addresses obtained here (or the recovered begin) are
    /// accepted by <see cref="TruncateBefore"/>: FASTER accepts a truncation inside a record and then fails every scan.
    /// </summary>
    long CaptureBoundary();

    /// <summary>Drops everything before <paramref name="address"/> (a boundary from <see cref="CaptureBoundary"/>) and commits.</summary>
    void TruncateBefore(long address);

    /// <summary>Files the log consists of (segments and commit metadata), for disk usage and error messages.</summary>
    IReadOnlyList<string> Files { get; }
}

/// <summary>One log entry read back during recovery.</summary>
/// <param name="Address">Where it starts.</param>
/// <param name="Data">Its bytes.</param>
/// <param name="NextAddress">Where the following entry starts.</param>
internal readonly record struct LogEntry(long Address, byte[] Data, long NextAddress);
