namespace VectorStore;

/// <summary>
/// A collection stopped serving because applying a write in memory failed after the write had been logged (most
/// often an <see cref="OutOfMemoryException"/> under a memory limit): its memory may no longer match its log, so every
/// later call on it throws this instead of answering from that state, and no snapshot is taken of it. Nothing on disk
/// is damaged and every acknowledged write is kept. In a database directory, <c>VectorDatabase.GetCollection</c>
/// returns a copy reopened from the collection's files (the failed write, never acknowledged, may be applied by that
/// replay); an in-memory collection cannot be recovered. Over TCP it arrives as error code <c>Unavailable</c>, and a
/// server reopens the collection for the next request.
/// </summary>
public sealed class CollectionFaultedException : UnavailableException
{
    /// <summary>Creates the exception for collection <paramref name="collection"/>, which stopped because of <paramref name="cause"/>.</summary>
    public CollectionFaultedException(string collection, string message, Exception? cause = null)
        : base(message, cause) => Collection = collection;

    /// <summary>The collection that stopped.</summary>
    public string Collection { get; }
}
