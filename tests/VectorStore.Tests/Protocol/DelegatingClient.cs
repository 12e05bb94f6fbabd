using VectorStore.Collections;

namespace VectorStore.Tests.Protocol;

/// <summary>Forwards every call to another client; it is not an <see cref="ICompressionLifecycleClient"/> (as a cluster gateway is not).</summary>
internal class DelegatingClient(IVectorDatabaseClient inner) : IVectorDatabaseClient
{
    public TransferLimits Limits => inner.Limits;

    public Task CreateCollectionAsync(string name, CollectionOptions options, CancellationToken cancellationToken = default) => inner.CreateCollectionAsync(name, options, cancellationToken);

    public Task<bool> DropCollectionAsync(string name, CancellationToken cancellationToken = default) => inner.DropCollectionAsync(name, cancellationToken);

    public Task<IReadOnlyList<string>> CollectionNamesAsync(CancellationToken cancellationToken = default) => inner.CollectionNamesAsync(cancellationToken);

    public Task<CollectionInfo> GetInfoAsync(string name, CancellationToken cancellationToken = default) => inner.GetInfoAsync(name, cancellationToken);

    public Task UpsertBatchAsync(string name, IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads = null, CancellationToken cancellationToken = default) =>
        inner.UpsertBatchAsync(name, ids, vectors, payloads, cancellationToken);

    public Task<IReadOnlyList<VectorRecord?>> GetBatchAsync(string name, IReadOnlyList<ulong> ids, CancellationToken cancellationToken = default) => inner.GetBatchAsync(name, ids, cancellationToken);

    public Task<IdPage> ListIdsAsync(string name, ulong? after, int limit, CancellationToken cancellationToken = default) => inner.ListIdsAsync(name, after, limit, cancellationToken);

    public virtual Task<SearchHit[]> SearchAsync(string name, ReadOnlyMemory<float> query, SearchOptions? options = null, CancellationToken cancellationToken = default) =>
        inner.SearchAsync(name, query, options, cancellationToken);

    public virtual Task<SearchHit[][]> SearchBatchAsync(string name, VectorMatrix queries, SearchOptions? options = null, CancellationToken cancellationToken = default) =>
        inner.SearchBatchAsync(name, queries, options, cancellationToken);

    public Task<bool[]> DeleteBatchAsync(string name, IReadOnlyList<ulong> ids, CancellationToken cancellationToken = default) => inner.DeleteBatchAsync(name, ids, cancellationToken);

    public Task FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

    public Task CompactAsync(string name, CancellationToken cancellationToken = default) => inner.CompactAsync(name, cancellationToken);

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
