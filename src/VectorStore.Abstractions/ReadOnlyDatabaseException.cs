namespace VectorStore;

/// <summary>
/// A write (upsert, delete, index build, create, drop, compact, snapshot) on a database opened read-only
/// (<c>VectorDatabase.OpenReadOnly</c>, <c>--read-only</c>). Nothing was changed. (CLI exit code 1.)
/// </summary>
public sealed class ReadOnlyDatabaseException : VectorStoreException
{
    /// <summary>Creates the exception for <paramref name="operation"/> on the database in <paramref name="directory"/>.</summary>
    public ReadOnlyDatabaseException(string directory, string operation)
        : base($"{directory}: the database is open read-only; {operation} is not allowed (open it without --read-only / with VectorDatabase.Open to write)")
    {
        Directory = directory;
        Operation = operation;
    }

    /// <summary>The database directory.</summary>
    public string Directory { get; }

    /// <summary>The refused operation.</summary>
    public string Operation { get; }
}
