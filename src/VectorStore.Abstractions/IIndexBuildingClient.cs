namespace VectorStore;

/// <summary>
/// An <see cref="IVectorDatabaseClient"/> that can train a collection's codec and build its index on demand, as
/// <c>Collection.BuildIndex</c> does in process (the TCP BuildIndex request). Thread-safety: as the client.
/// </summary>
public interface IIndexBuildingClient : IVectorDatabaseClient
{
    /// <summary>Trains the codec and builds the index of <paramref name="name"/> now.</summary>
    Task BuildIndexAsync(string name, CancellationToken cancellationToken = default);
}
