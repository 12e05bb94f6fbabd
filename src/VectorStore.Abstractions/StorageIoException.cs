namespace VectorStore;

/// <summary>
/// Writing the database's files failed with an I/O error other than a full disk (EIO, a failed fsync). The write
/// that hit it was not acknowledged and is not visible; the database reopens its log in place, so later writes are
/// tried again without a restart. Over TCP it arrives as error code <c>StorageError</c> (12). (CLI exit code 2.)
/// </summary>
public sealed class StorageIoException : VectorStoreException
{
    /// <summary>Creates the exception naming <paramref name="path"/>, the file that failed.</summary>
    public StorageIoException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner) => Path = path;

    /// <summary>The file that failed.</summary>
    public string Path { get; }
}
