namespace VectorStore.Protocol;

/// <summary>
/// Backup response (version 8, data-format.md §5.9): the backup's directory on the server, then per collection copied
/// its name, live count and bytes, then the collections left out as damaged.
/// </summary>
/// <param name="Result">What the server wrote.</param>
public sealed record BackupResponse(BackupResult Result) : IWireMessage
{
    /// <inheritdoc />
    public int PayloadSize => WireWriter.StrSize(Result.Directory)
        + 4 + Result.Collections.Sum(c => WireWriter.StrSize(c.Name) + 16)
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
        }
        w.U32((uint)Result.SkippedDamaged.Count);
        foreach (var n in Result.SkippedDamaged) w.Str(n);
    }

    /// <summary>Decodes; throws <see cref="ProtocolException"/>.</summary>
    public static BackupResponse Read(ReadOnlySpan<byte> payload)
    {
        var r = new WireReader(payload);
        string directory = r.Str("directory");
        // Each entry needs at least its 2-byte name length and two i64s, which bounds the list before allocating.
        int n = r.Count("collection count", r.Remaining / 18);
        var collections = new BackedUpCollection[n];
        for (int i = 0; i < n; i++) collections[i] = new BackedUpCollection(r.Str("name"), r.I64("count"), r.I64("bytes"));
        int s = r.Count("skipped count", r.Remaining / 2);
        var skipped = new string[s];
        for (int i = 0; i < s; i++) skipped[i] = r.Str("skipped name");
        r.End();
        return new BackupResponse(new BackupResult(directory, collections, skipped));
    }
}
