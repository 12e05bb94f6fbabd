namespace VectorStore;

/// <summary>Base type of every error VectorStore reports on purpose.</summary>
public class VectorStoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    public VectorStoreException(string message, Exception? inner = null) : base(message, inner) { }
}
