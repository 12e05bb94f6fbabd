namespace VectorStore;

/// <summary>Stored data cannot be read: a corrupt or truncated file, a newer format version. (CLI exit code 2.)</summary>
public sealed class StoreCorruptedException : VectorStoreException
{
    /// <summary>Creates the exception naming <paramref name="path"/>.</summary>
    public StoreCorruptedException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner) => Path = path;

    /// <summary>The file that failed.</summary>
    public string Path { get; }
}
