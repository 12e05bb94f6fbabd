namespace VectorStore;

/// <summary>An id that the collection does not hold.</summary>
public sealed class IdNotFoundException : VectorStoreException
{
    /// <summary>Creates the exception for <paramref name="id"/>.</summary>
    public IdNotFoundException(ulong id) : base($"id {id} not found") => Id = id;

    /// <summary>The missing id.</summary>
    public ulong Id { get; }
}
