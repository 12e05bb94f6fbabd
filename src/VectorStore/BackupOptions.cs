namespace VectorStore;

/// <summary>
/// How <see cref="VectorDatabase.Backup(string, BackupOptions?, CancellationToken)"/> writes a backup; defaults per
/// property, <see cref="Validate"/> checks them. Immutable.
/// </summary>
public sealed record BackupOptions
{
    /// <summary>
    /// A previous backup of this database (or any database directory): each sealed file of a collection of the same name
    /// that it holds unchanged (segments, index, slot, drift baseline and tuning files: the same name and every byte
    /// equal to this database's file, read through the new link) is hard-linked into the new backup instead of copied,
    /// so a nightly backup writes only what changed since, and each backup still opens, and may be deleted, on its own.
    /// A file the previous backup holds damaged differs from the healthy one and is copied. Where no hard link can be
    /// made (another file system), the file is copied. Default null: copy everything.
    /// </summary>
    public string? Since { get; init; }

    /// <summary>Throws <see cref="InvalidArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (Since is not null && string.IsNullOrWhiteSpace(Since)) throw new InvalidArgumentException("BackupOptions.Since is empty; give a previous backup's directory or leave it null");
    }
}
