namespace VectorStore;

/// <summary>A caller passed an invalid argument: a bad spec, k = 0, an unknown collection name. (CLI exit code 1.)</summary>
public class InvalidArgumentException : VectorStoreException
{
    /// <summary>Creates the exception.</summary>
    public InvalidArgumentException(string message) : base(message) { }
}
