namespace VectorStore;

/// <summary>
/// A distributed database could not complete the call in time: part of it did not answer (a search would have been
/// partial), or a write could not be acknowledged by enough copies. Nothing was acknowledged; retrying is safe
/// (upserts and deletes are idempotent). Over TCP it arrives as error code <c>Unavailable</c>.
/// </summary>
public class UnavailableException : VectorStoreException
{
    /// <summary>With a message saying what did not answer.</summary>
    public UnavailableException(string message, Exception? inner = null) : base(message, inner) { }
}
