namespace VectorStore;

/// <summary>
/// A write was refused or failed because the database's file system is full (ENOSPC) or its free space is below the
/// reserve the database keeps for snapshots and checkpoints (<c>DatabaseOptions.MinFreeDiskBytes</c>). Nothing of the
/// write was acknowledged and it is not visible; the database keeps working, and the same write succeeds once space
/// is freed. Over TCP it arrives as error code <c>StorageFull</c> (15). (CLI exit code 2.)
/// </summary>
public sealed class StorageFullException : VectorStoreException
{
    /// <summary>Creates the exception naming <paramref name="path"/>, the file (or directory) that could not grow.</summary>
    public StorageFullException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner) => Path = path;

    /// <summary>The error as a remote server reported it (the message names the file; <see cref="Path"/> is empty).</summary>
    public StorageFullException(string message)
        : base(message) => Path = string.Empty;

    /// <summary>The file or directory that could not grow (empty when the error came from a server).</summary>
    public string Path { get; }
}
