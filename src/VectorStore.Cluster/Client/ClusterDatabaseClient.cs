using System.Collections.Concurrent;
using VectorStore.Collections;
using VectorStore.Filtering;
using VectorStore.Lifecycle;

namespace VectorStore.Cluster;

/// <summary>
/// <see cref="IVectorDatabaseClient"/> over a <see cref="DistributedDatabase"/>: the CLI's database commands, tools and
/// the TCP server (a cluster gateway: <c>new VectorStoreServer(client)</c>) run unchanged against a cluster.
/// </summary>
/// <remarks>
/// A search that would be partial (a shard missed <see cref="ClusterCoordinatorOptions.ShardTimeout"/>) throws
/// <see cref="PartialResultException"/> — over TCP the error code <c>Unavailable</c> — instead of returning short.
/// <see cref="FlushAsync"/> has nothing to do: every acknowledged write is already durable on R silos.
/// The compression lifecycle (<see cref="ICompressionLifecycleClient"/>) runs cluster-wide (see
/// <see cref="DistributedCollection.BuildGenerationAsync"/>): every shard builds from one shared sample and switches
/// together; the drift ladder runs collection-wide; an automatic rollback floor is refused (<see cref="NotSupportedException"/>).
/// Collections are cached for <see cref="CollectionCacheTime"/> (their layout refreshes itself when a shard says it
/// is stale; the time bounds how long a call to a collection dropped and re-created through another gateway is refused
/// as InvalidArgument, "dropped and created again", instead of reaching the new one). Thread-safety: every member may be called concurrently.
/// </remarks>
public sealed class ClusterDatabaseClient : IIndexBuildingClient, ICompressionLifecycleClient
{
    private readonly ConcurrentDictionary<string, (DistributedCollection Collection, long At)> _cache = new(StringComparer.Ordinal);
    private readonly int _shards;
    private readonly int _replicationFactor;

    /// <summary>
    /// Wraps <paramref name="database"/>; collections created through this client get <paramref name="shards"/> shards
    /// (0 = two per active silo) and <paramref name="replicationFactor"/> copies (0 = min(2, active silos)).
    /// </summary>
    public ClusterDatabaseClient(DistributedDatabase database, int shards = 0, int replicationFactor = 0)
    {
        ArgumentNullException.ThrowIfNull(database);
        if (shards < 0 || replicationFactor < 0) throw new InvalidArgumentException("shards and replication factor must not be negative (0 = automatic)");
        Database = database;
        _shards = shards;
        _replicationFactor = replicationFactor;
    }

    /// <summary>The wrapped database.</summary>
    public DistributedDatabase Database { get; }

    /// <summary>How long a looked-up collection is reused before its layout is read again. Default 1 s.</summary>
    public TimeSpan CollectionCacheTime { get; init; } = TimeSpan.FromSeconds(1);

    /// <inheritdoc />
    /// <remarks>Unlimited: the coordinator splits writes into messages of <see cref="ClusterCoordinatorOptions.MaxRowsPerMessage"/> rows itself.</remarks>
    public TransferLimits Limits => TransferLimits.Unlimited;

    /// <inheritdoc />
    public async Task CreateCollectionAsync(string name, CollectionOptions options, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var c = await Database.CreateCollectionAsync(name, options, _shards, _replicationFactor).ConfigureAwait(false);
        _cache[name] = (c, Environment.TickCount64);
    }

    /// <inheritdoc />
    public async Task<bool> DropCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _cache.TryRemove(name, out _);
        return await Database.DropCollectionAsync(name).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> CollectionNamesAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Database.CollectionNamesAsync();
    }

    /// <inheritdoc />
    public async Task<CollectionInfo> GetInfoAsync(string name, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).GetInfoAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public async Task UpsertBatchAsync(string name, IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads = null,
        CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).UpsertBatchAsync(ids, vectors, payloads).ConfigureAwait(false);

    /// <inheritdoc />
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026", Justification = "The same overload set as Collection.UpsertBatch and IVectorDatabaseClient.UpsertBatchAsync (shipped): a distributed collection has the embedded one's shape.")]
    public async Task UpsertBatchAsync(string name, IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads,
        IReadOnlyList<IReadOnlyDictionary<string, FieldValue>?>? fields, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).UpsertBatchAsync(ids, vectors, payloads, fields).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<IReadOnlyList<VectorRecord?>> GetBatchAsync(string name, IReadOnlyList<ulong> ids, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).GetBatchAsync(ids).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<IdPage> ListIdsAsync(string name, ulong? after, int limit, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).ListIdsAsync(after, limit).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<IdPage> ListMatchingIdsAsync(string name, FilterExpression? where, ulong? after, int limit, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).ListIdsAsync(after, limit, where).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<SearchHit[]> SearchAsync(string name, ReadOnlyMemory<float> query, SearchOptions? options = null, CancellationToken cancellationToken = default)
    {
        var r = await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).SearchAsync(query, options).ConfigureAwait(false);
        return r.IsPartial ? throw new PartialResultException(r) : r.Hits;
    }

    /// <inheritdoc />
    public async Task<SearchHit[][]> SearchBatchAsync(string name, VectorMatrix queries, SearchOptions? options = null, CancellationToken cancellationToken = default)
    {
        var results = await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).SearchBatchAsync(queries, options).ConfigureAwait(false);
        // Every query of a batch asks the same shards, so one partial query means all are.
        return results.Length > 0 && results[0].IsPartial ? throw new PartialResultException(results[0]) : results.Select(r => r.Hits).ToArray();
    }

    /// <inheritdoc />
    public async Task<bool[]> DeleteBatchAsync(string name, IReadOnlyList<ulong> ids, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).DeleteBatchAsync(ids).ConfigureAwait(false);

    /// <inheritdoc />
    /// <remarks>Nothing to do: a write is acknowledged only once durable on R silos.</remarks>
    public Task FlushAsync(CancellationToken cancellationToken = default) =>
        cancellationToken.IsCancellationRequested ? Task.FromCanceled(cancellationToken) : Task.CompletedTask;

    /// <inheritdoc />
    public async Task CompactAsync(string name, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).CompactAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public async Task BuildIndexAsync(string name, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).BuildIndexAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<int> BuildGenerationAsync(string name, string compression, string index, bool wait = true, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).BuildGenerationAsync(compression, index, wait).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<IReadOnlyList<GenerationInfo>> ListGenerationsAsync(string name, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).ListGenerationsAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<CanaryReport> RunCanaryAsync(string name, int generation, VectorMatrix queries, SearchOptions? options = null, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).RunCanaryAsync(generation, queries, options).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task StartCanaryAsync(string name, CanarySettings settings, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).StartCanaryAsync(settings).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task StopCanaryAsync(string name, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).StopCanaryAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public async Task SetExposureAsync(string name, int generation, double percent, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).SetExposureAsync(generation, percent).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task PromoteAsync(string name, int generation, PromotionGate? gate = null, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).PromoteAsync(generation, gate).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<int> RollbackAsync(string name, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).RollbackAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<int> CollectGenerationsAsync(string name, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).CollectGenerationsAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public async Task SetLifecyclePolicyAsync(string name, LifecyclePolicy policy, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).SetLifecyclePolicyAsync(policy).ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<LifecyclePolicy> GetLifecyclePolicyAsync(string name, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).GetLifecyclePolicyAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public async Task<DriftReport> GetDriftAsync(string name, CancellationToken cancellationToken = default) =>
        await (await CollectionAsync(name, cancellationToken).ConfigureAwait(false)).GetDriftAsync().ConfigureAwait(false);

    /// <inheritdoc />
    /// <remarks>The cluster and its connection belong to the caller: nothing is closed.</remarks>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async ValueTask<DistributedCollection> CollectionAsync(string name, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        long now = Environment.TickCount64;
        bool found = _cache.TryGetValue(name, out var cached);
        if (found && now - cached.At < (long)CollectionCacheTime.TotalMilliseconds) return cached.Collection;
        DistributedCollection c;
        try
        {
            c = await Database.GetCollectionAsync(name).ConfigureAwait(false);
        }
        catch (ClusterUnavailableException) when (found)
        {
            // The layout grain is moving (its silo just died) or unreachable: the collection known a moment ago still
            // routes correctly (its layout refreshes itself when a shard says it is stale); without one the call is
            // Unavailable (GrainCalls), which a client may retry, never an internal error.
            return cached.Collection;
        }
        _cache[name] = (c, now);
        return c;
    }
}
