namespace VectorStore;

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
