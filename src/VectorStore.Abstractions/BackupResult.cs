namespace VectorStore;

/// <summary>
/// What a backup wrote (<c>VectorDatabase.Backup</c>, the <c>vectorstore backup</c> command): a database directory that
/// opens on its own. Immutable.
/// </summary>
/// <param name="Directory">The backup's directory (a full path, on the machine that wrote it).</param>
/// <param name="Collections">Each collection copied, in name order.</param>
/// <param name="SkippedDamaged">
/// Collections set aside as damaged when the database opened (<c>DatabaseOptions.SetAsideDamagedCollections</c>): not in
/// the backup, because their files could not be read.
/// </param>
public sealed record BackupResult(string Directory, IReadOnlyList<BackedUpCollection> Collections, IReadOnlyList<string> SkippedDamaged)
{
    /// <summary>Bytes of every collection's files in the backup.</summary>
    public long Bytes => Collections.Sum(c => c.Bytes);

    /// <summary>Of <see cref="Bytes"/>, those hard-linked from a previous backup rather than written (an incremental backup).</summary>
    public long LinkedBytes => Collections.Sum(c => c.LinkedBytes);
}

/// <summary>One collection in a <see cref="BackupResult"/>. Immutable.</summary>
/// <param name="Name">The collection's name.</param>
/// <param name="Count">Live vectors in the copy: every write acknowledged before the backup reached this collection, perhaps a few after.</param>
/// <param name="Bytes">Bytes of its files in the backup.</param>
/// <param name="LinkedBytes">Of <paramref name="Bytes"/>, those hard-linked from a previous backup rather than written.</param>
public sealed record BackedUpCollection(string Name, long Count, long Bytes, long LinkedBytes = 0);
