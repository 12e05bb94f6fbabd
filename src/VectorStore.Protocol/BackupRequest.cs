namespace VectorStore.Protocol;

/// <summary>
/// Backup request (data-format.md §5.9): version 8 carries only the new backup's name; version 9 adds the name of a
/// previous backup under the same backup directory whose unchanged files are hard-linked (empty: none).
/// </summary>
/// <param name="Name">The new backup's directory name under the server's backup directory.</param>
/// <param name="Since">A previous backup's name there, or null for a full copy.</param>
/// <param name="Version">Protocol version of the connection.</param>
public sealed record BackupRequest(string Name, string? Since, ushort Version = ProtocolConstants.Version) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => WireWriter.StrSize(Name) + (Version >= ProtocolConstants.IncrementalBackupVersion ? WireWriter.StrSize(Since ?? "") : 0);

    /// <inheritdoc />
    public void Write(ref WireWriter w)
    {
        if (Since is not null && Version < ProtocolConstants.IncrementalBackupVersion)
            throw new InvalidOperationException($"protocol version {Version} has no incremental backups");
        w.Str(Name);
        if (Version >= ProtocolConstants.IncrementalBackupVersion) w.Str(Since ?? "");
    }

    /// <summary>Decodes a request of protocol <paramref name="version"/>; throws <see cref="ProtocolException"/>.</summary>
    public static BackupRequest Read(ReadOnlySpan<byte> payload, ushort version = ProtocolConstants.Version)
    {
        var r = new WireReader(payload);
        string name = r.Str("name");
        string? since = version >= ProtocolConstants.IncrementalBackupVersion ? r.Str("since") : null;
        r.End();
        return new BackupRequest(name, since is "" ? null : since, version);
    }
}
