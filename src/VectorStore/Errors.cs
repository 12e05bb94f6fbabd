namespace VectorStore;

/// <summary>Base type of every error VectorStore reports on purpose.</summary>
public class VectorStoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    public VectorStoreException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>A caller passed an invalid argument: a bad spec, k = 0, an unknown collection name. (CLI exit code 1.)</summary>
public class InvalidArgumentException : VectorStoreException
{
    /// <summary>Creates the exception.</summary>
    public InvalidArgumentException(string message) : base(message) { }
}

/// <summary>A vector has the wrong dimension or holds NaN/Infinity. (CLI exit code 1.)</summary>
public sealed class InvalidVectorException : InvalidArgumentException
{
    /// <summary>Creates the exception.</summary>
    public InvalidVectorException(string message) : base(message) { }
}

/// <summary>An id that the collection does not hold.</summary>
public sealed class IdNotFoundException : VectorStoreException
{
    /// <summary>Creates the exception for <paramref name="id"/>.</summary>
    public IdNotFoundException(ulong id) : base($"id {id} not found") => Id = id;

    /// <summary>The missing id.</summary>
    public ulong Id { get; }
}

/// <summary>A vector or ids file is malformed: truncated, mixed dimensions, non-finite values. (CLI exit code 1.)</summary>
public sealed class VectorFileException : VectorStoreException
{
    /// <summary>Creates the exception.</summary>
    public VectorFileException(string path, long row, string problem)
        : base(row >= 0 ? $"{path}: row {row}: {problem}" : $"{path}: {problem}")
    {
        Path = path;
        Row = row;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>The zero-based row, or -1 when the problem is not tied to a row.</summary>
    public long Row { get; }
}

/// <summary>Stored data cannot be read: a corrupt or truncated file, a newer format version. (CLI exit code 2.)</summary>
public sealed class StoreCorruptedException : VectorStoreException
{
    /// <summary>Creates the exception naming <paramref name="path"/>.</summary>
    public StoreCorruptedException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner) => Path = path;

    /// <summary>The file that failed.</summary>
    public string Path { get; }
}
