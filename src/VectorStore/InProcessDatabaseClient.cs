using VectorStore.Collections;
using VectorStore.Filtering;
using VectorStore.Lifecycle;

namespace VectorStore;

/// <summary>
/// <see cref="IVectorDatabaseClient"/> over a <see cref="VectorDatabase"/> in this process, so code written against the
/// interface (the CLI's database commands) runs unchanged on a local database or through <c>VectorStoreClient</c>.
/// </summary>
/// <remarks>
/// Reads, searches and metadata calls run on the calling thread and return an already completed task (failed with
/// the engine's exception, or cancelled when <c>cancellationToken</c> was cancelled before the work began). Upserts,
/// deletes and flushes apply their change on the calling thread and then await durability without holding a thread
/// (<see cref="Collection.UpsertBatchAsync(IReadOnlyList{ulong}, VectorMatrix, IReadOnlyList{byte[]}, CancellationToken)"/>): an upsert's task completes once the batch is durable. Thread-safety: as <see cref="VectorDatabase"/> and <see cref="Collection"/>, every member may be called
/// concurrently.
/// </remarks>
public sealed class InProcessDatabaseClient : ICompressionLifecycleClient, IDisposable
{
    private readonly bool _ownsDatabase;

    /// <summary>Wraps <paramref name="database"/>; disposing this disposes the database only when <paramref name="ownsDatabase"/>.</summary>
    public InProcessDatabaseClient(VectorDatabase database, bool ownsDatabase = false)
    {
        ArgumentNullException.ThrowIfNull(database);
        Database = database;
        _ownsDatabase = ownsDatabase;
    }

    /// <summary>The wrapped database.</summary>
    public VectorDatabase Database { get; }

    /// <inheritdoc />
    public TransferLimits Limits => TransferLimits.Unlimited;

    /// <inheritdoc />
    public Task CreateCollectionAsync(string name, CollectionOptions options, CancellationToken cancellationToken = default) =>
        Run(() => Database.CreateCollection(name, options), cancellationToken);

    /// <inheritdoc />
    public Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default) =>
        Run(() => Database.CollectionExists(name), cancellationToken);

    /// <inheritdoc />
    /// <remarks>Atomic: <see cref="VectorDatabase.GetOrCreateCollection(string, CollectionOptions, out bool)"/>.</remarks>
    public Task<bool> GetOrCreateCollectionAsync(string name, CollectionOptions options, CancellationToken cancellationToken = default) =>
        Run(() =>
        {
            Database.GetOrCreateCollection(name, options, out bool created);
            return created;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<bool> DropCollectionAsync(string name, CancellationToken cancellationToken = default) =>
        Run(() => Database.DropCollection(name), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> CollectionNamesAsync(CancellationToken cancellationToken = default) =>
        Run(() => Database.CollectionNames, cancellationToken);

    /// <inheritdoc />
    public Task<CollectionInfo> GetInfoAsync(string name, CancellationToken cancellationToken = default) =>
        Run(() =>
        {
            var c = Database.GetCollection(name);
            return new CollectionInfo(c.Options, c.GetStats(), Database.DiskBytes(name));
        }, cancellationToken);

    /// <inheritdoc />
    public Task UpsertBatchAsync(string name, IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads = null,
        CancellationToken cancellationToken = default) =>
        UpsertBatchAsync(name, ids, vectors, payloads, null, cancellationToken);

    /// <inheritdoc />
    public Task UpsertBatchAsync(string name, IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads,
        IReadOnlyList<IReadOnlyDictionary<string, Filtering.FieldValue>?>? fields, CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested ? Task.FromCanceled(cancellationToken) : UpsertBatchAsyncCore(name, ids, vectors, payloads, fields, cancellationToken);

    private async Task UpsertBatchAsyncCore(string name, IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads,
        IReadOnlyList<IReadOnlyDictionary<string, Filtering.FieldValue>?>? fields, CancellationToken cancellationToken) =>
        await Database.GetCollection(name).UpsertBatchAsync(ids, vectors, payloads, fields, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public Task<IReadOnlyList<VectorRecord?>> GetBatchAsync(string name, IReadOnlyList<ulong> ids, CancellationToken cancellationToken = default) =>
        Run<IReadOnlyList<VectorRecord?>>(() =>
        {
            var c = Database.GetCollection(name);
            var records = new VectorRecord?[ids.Count];
            for (int i = 0; i < records.Length; i++) records[i] = c.Get(ids[i]);
            return records;
        }, cancellationToken);

    /// <inheritdoc />
    /// <remarks>Each page lists the collection's ids afresh (a sorted copy), so prefer few large pages.</remarks>
    public Task<IdPage> ListIdsAsync(string name, ulong? after, int limit, CancellationToken cancellationToken = default) =>
        Run(() => Database.GetCollection(name).IdPage(after, limit), cancellationToken);

    /// <inheritdoc />
    /// <remarks>Each page evaluates the filter afresh on the field indexes (a cached result while nothing is written).</remarks>
    public Task<IdPage> ListMatchingIdsAsync(string name, FilterExpression? where, ulong? after, int limit, CancellationToken cancellationToken = default) =>
        Run(() => Database.GetCollection(name).IdPage(after, limit, where), cancellationToken);

    /// <inheritdoc />
    public Task<SearchHit[]> SearchAsync(string name, ReadOnlyMemory<float> query, SearchOptions? options = null, CancellationToken cancellationToken = default) =>
        Run(() => Database.GetCollection(name).Search(query.Span, options), cancellationToken);

    /// <inheritdoc />
    public Task<SearchHit[][]> SearchBatchAsync(string name, VectorMatrix queries, SearchOptions? options = null, CancellationToken cancellationToken = default) =>
        Run(() => Database.GetCollection(name).SearchBatch(queries, options), cancellationToken);

    /// <inheritdoc />
    public Task<bool[]> DeleteBatchAsync(string name, IReadOnlyList<ulong> ids, CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested ? Task.FromCanceled<bool[]>(cancellationToken) : DeleteBatchAsyncCore(name, ids, cancellationToken);

    private async Task<bool[]> DeleteBatchAsyncCore(string name, IReadOnlyList<ulong> ids, CancellationToken cancellationToken) =>
        await Database.GetCollection(name).DeleteBatchAsync(ids, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public Task FlushAsync(CancellationToken cancellationToken = default) => Database.FlushAsync(cancellationToken);

    /// <inheritdoc />
    public Task CompactAsync(string name, CancellationToken cancellationToken = default) => Run(() => Database.Compact(name), cancellationToken);

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Disposes the database when this client owns it (synchronous too, for containers disposed synchronously).</summary>
    public void Dispose()
    {
        if (_ownsDatabase) Database.Dispose();
    }

    /// <inheritdoc />
    public async Task<int> BuildGenerationAsync(string name, string compression, string index, bool wait = true, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var c = Database.GetCollection(name);
        int generation = c.BuildGeneration(compression, index);
        if (wait) await c.WaitForGeneration(generation, cancellationToken).ConfigureAwait(false);
        return generation;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<GenerationInfo>> ListGenerationsAsync(string name, CancellationToken cancellationToken = default) =>
        Run(() => Database.GetCollection(name).Generations(), cancellationToken);

    /// <inheritdoc />
    public Task<CanaryReport> RunCanaryAsync(string name, int generation, VectorMatrix queries, SearchOptions? options = null, CancellationToken cancellationToken = default) =>
        Run(() => Database.GetCollection(name).RunCanary(generation, queries, options), cancellationToken);

    /// <inheritdoc />
    public Task StartCanaryAsync(string name, CanarySettings settings, CancellationToken cancellationToken = default) =>
        Run(() => Database.GetCollection(name).StartCanary(settings), cancellationToken);

    /// <inheritdoc />
    public Task StopCanaryAsync(string name, CancellationToken cancellationToken = default) =>
        Run(() => Database.GetCollection(name).StopCanary(), cancellationToken);

    /// <inheritdoc />
    public Task SetExposureAsync(string name, int generation, double percent, CancellationToken cancellationToken = default) =>
        Run(() => Database.GetCollection(name).SetExposure(generation, percent), cancellationToken);

    /// <inheritdoc />
    public Task PromoteAsync(string name, int generation, PromotionGate? gate = null, CancellationToken cancellationToken = default) =>
        Run(() => Database.GetCollection(name).Promote(generation, gate), cancellationToken);

    /// <inheritdoc />
    public Task<int> RollbackAsync(string name, CancellationToken cancellationToken = default) =>
        Run(() => Database.GetCollection(name).Rollback(), cancellationToken);

    /// <inheritdoc />
    public Task<int> CollectGenerationsAsync(string name, CancellationToken cancellationToken = default) =>
        Run(() => Database.GetCollection(name).CollectGenerations(), cancellationToken);

    /// <inheritdoc />
    public Task SetLifecyclePolicyAsync(string name, LifecyclePolicy policy, CancellationToken cancellationToken = default) =>
        Run(() => Database.GetCollection(name).Policy = policy, cancellationToken);

    /// <inheritdoc />
    public Task<LifecyclePolicy> GetLifecyclePolicyAsync(string name, CancellationToken cancellationToken = default) =>
        Run(() => Database.GetCollection(name).Policy, cancellationToken);

    /// <inheritdoc />
    public Task<DriftReport> GetDriftAsync(string name, CancellationToken cancellationToken = default) =>
        Run(() => Database.GetCollection(name).Drift(), cancellationToken);

    private static Task<T> Run<T>(Func<T> work, CancellationToken cancellationToken) => InlineTask.Run(work, cancellationToken);

    private static Task Run(Action work, CancellationToken cancellationToken) =>
        Run<bool>(() =>
        {
            work();
            return true;
        }, cancellationToken);
}
