namespace VectorStore.Protocol;

/// <summary>
/// Backup response (version 8, data-format.md §5.9): the backup's directory on the server, then per collection copied
/// its name, live count, bytes and (version 9 on) bytes hard-linked from the previous backup, then the collections left
/// out as damaged.
/// </summary>
/// <param name="Result">What the server wrote.</param>
/// <param name="Version">Protocol version of the connection: from 9 on each collection carries its linked bytes.</param>
public sealed record BackupResponse(BackupResult Result, ushort Version = ProtocolConstants.Version) : IWireMessage
{
    private int PerCollection => Version >= ProtocolConstants.IncrementalBackupVersion ? 24 : 16;

    /// <inheritdoc />
    public int PayloadSize => WireWriter.StrSize(Result.Directory)
        + 4 + Result.Collections.Sum(c => WireWriter.StrSize(c.Name) + PerCollection)
        + 4 + Result.SkippedDamaged.Sum(WireWriter.StrSize);

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        w.Str(Result.Directory);
        w.U32((uint)Result.Collections.Count);
        foreach (var c in Result.Collections)
        {
            w.Str(c.Name);
            w.I64(c.Count);
            w.I64(c.Bytes);
            if (Version >= ProtocolConstants.IncrementalBackupVersion) w.I64(c.LinkedBytes);
        }
        w.U32((uint)Result.SkippedDamaged.Count);
        foreach (var n in Result.SkippedDamaged) w.Str(n);
    }

    /// <summary>Decodes a response of protocol <paramref name="version"/>; throws <see cref="ProtocolException"/>.</summary>
    public static BackupResponse Read(ReadOnlySpan<byte> payload, ushort version = ProtocolConstants.Version)
    {
        var r = new WireReader(payload);
        string directory = r.Str("directory");
        bool linked = version >= ProtocolConstants.IncrementalBackupVersion;
        // Each entry needs at least its 2-byte name length and its i64s, which bounds the list before allocating.
        int n = r.Count("collection count", r.Remaining / (linked ? 26 : 18));
        var collections = new BackedUpCollection[n];
        for (int i = 0; i < n; i++)
            collections[i] = new BackedUpCollection(r.Str("name"), r.I64("count"), r.I64("bytes"), linked ? r.I64("linked bytes") : 0);
        int s = r.Count("skipped count", r.Remaining / 2);
        var skipped = new string[s];
        for (int i = 0; i < s; i++) skipped[i] = r.Str("skipped name");
        r.End();
        return new BackupResponse(new BackupResult(directory, collections, skipped), version);
    }
}
