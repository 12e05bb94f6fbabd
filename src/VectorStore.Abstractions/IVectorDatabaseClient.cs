using VectorStore.Collections;
using VectorStore.Filtering;

namespace VectorStore;

/// <summary>
/// Access to a database's collections, the same whether the database lives in this process or behind a server: the
/// CLI's database commands, tools and tests are written once against it. Methods take the collection name and mirror
/// <c>VectorDatabase</c> and <c>Collection</c>; errors are the same typed exceptions
/// (<see cref="InvalidArgumentException"/> for an unknown collection or bad argument, <see cref="InvalidVectorException"/>
/// for a bad vector), plus transport errors of a remote implementation.
/// </summary>
/// <remarks>
/// Implementations: <c>InProcessDatabaseClient</c> over a <c>VectorDatabase</c> (work runs on the calling thread; writes
/// then await durability without holding a thread) and <c>VectorStoreClient</c> over TCP. Callers respect <see cref="Limits"/> when splitting
/// batches. Thread-safety: every member of both implementations may be called concurrently.
/// </remarks>
public interface IVectorDatabaseClient : IAsyncDisposable
{
    /// <summary>How much one call may carry; <see cref="TransferLimits.Unlimited"/> in process.</summary>
    TransferLimits Limits { get; }

    /// <summary>Creates a collection; fails if the name is taken or the options are invalid.</summary>
    Task CreateCollectionAsync(string name, CollectionOptions options, CancellationToken cancellationToken = default);

    /// <summary>Whether the collection exists. The default asks for the names; implementations may answer directly.</summary>
    async Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var names = await CollectionNamesAsync(cancellationToken).ConfigureAwait(false);
        return names.Contains(name, StringComparer.Ordinal);
    }

    /// <summary>
    /// Creates the collection unless it exists; an existing one must have been created with the same options
    /// (<see cref="CollectionOptions.DifferenceFrom(CollectionOptions, int)"/>), else <see cref="InvalidArgumentException"/>. Returns whether it
    /// was created. The default (used over TCP) checks, creates, and on losing a creation race to another client
    /// checks the winner's options; the in-process client does it atomically.
    /// </summary>
    async Task<bool> GetOrCreateCollectionAsync(string name, CollectionOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!await CollectionExistsAsync(name, cancellationToken).ConfigureAwait(false))
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo? refused = null;
            try
            {
                await CreateCollectionAsync(name, options, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (InvalidArgumentException e)
            {
                refused = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
            }
            // Refused because another client created it between the check and the create: compare its options.
            // Refused for any other reason (bad options, bad name): that error.
            if (!await CollectionExistsAsync(name, cancellationToken).ConfigureAwait(false)) refused.Throw();
        }
        var info = await GetInfoAsync(name, cancellationToken).ConfigureAwait(false);
        if (options.DifferenceFrom(info.Options, info.Stats.Generation) is { } difference)
            throw new InvalidArgumentException($"collection '{name}' already exists with different options: {difference}");
        return false;
    }

    /// <summary>Deletes a collection and its data; false when it did not exist.</summary>
    Task<bool> DropCollectionAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Collection names, sorted ordinally.</summary>
    Task<IReadOnlyList<string>> CollectionNamesAsync(CancellationToken cancellationToken = default);

    /// <summary>Options, statistics and bytes on disk of a collection.</summary>
    Task<CollectionInfo> GetInfoAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Inserts or replaces a batch, validated as a whole before anything changes; completes once the batch is durable
    /// (for a database in a directory). At most <see cref="TransferLimits.UpsertBatchSize"/> vectors.
    /// </summary>
    Task UpsertBatchAsync(string name, IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// <see cref="UpsertBatchAsync(string, IReadOnlyList{ulong}, VectorMatrix, IReadOnlyList{byte[]}, CancellationToken)"/>
    /// with field values: <paramref name="fields"/> is null or holds one entry per id (null or empty: the record has
    /// no field values), each naming only fields the collection declares, with values of the declared types. The
    /// default refuses non-empty fields, for implementations that cannot carry them.
    /// </summary>
    Task UpsertBatchAsync(string name, IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads,
        IReadOnlyList<IReadOnlyDictionary<string, Filtering.FieldValue>?>? fields, CancellationToken cancellationToken = default)
    {
        if (fields is not null && fields.Any(f => f is { Count: > 0 }))
            throw new InvalidArgumentException($"{GetType().Name} does not carry field values");
        return UpsertBatchAsync(name, ids, vectors, payloads, cancellationToken);
    }

    /// <summary>Stored vectors (full precision) and payloads of <paramref name="ids"/>, null where absent. At most <see cref="TransferLimits.GetBatchSize"/> ids.</summary>
    Task<IReadOnlyList<VectorRecord?>> GetBatchAsync(string name, IReadOnlyList<ulong> ids, CancellationToken cancellationToken = default);

    /// <summary>
    /// Live ids greater than <paramref name="after"/> (null: from the smallest), ascending, at most
    /// <paramref name="limit"/> of them (fewer when <see cref="TransferLimits.MaxBatch"/> is smaller).
    /// </summary>
    Task<IdPage> ListIdsAsync(string name, ulong? after, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Live ids whose field values <paramref name="where"/> admits (every live id when null), greater than
    /// <paramref name="after"/>, ascending, at most <paramref name="limit"/> of them: records chosen by their fields
    /// without a query vector. The default serves a null expression and refuses any other with
    /// <see cref="InvalidArgumentException"/>; the in-process client and servers speaking protocol version 6 answer it.
    /// </summary>
    Task<IdPage> ListMatchingIdsAsync(string name, FilterExpression? where, ulong? after, int limit, CancellationToken cancellationToken = default) =>
        where is null
            ? ListIdsAsync(name, after, limit, cancellationToken)
            : throw new InvalidArgumentException($"{GetType().Name} cannot list ids by a field filter");

    /// <summary>The best <see cref="SearchOptions.K"/> entries for one query, best first.</summary>
    Task<SearchHit[]> SearchAsync(string name, ReadOnlyMemory<float> query, SearchOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Searches every row of <paramref name="queries"/>; the database chooses the threads (<c>DatabaseOptions.Threads</c>).</summary>
    Task<SearchHit[][]> SearchBatchAsync(string name, VectorMatrix queries, SearchOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes <paramref name="ids"/>; per id, whether it was present.</summary>
    Task<bool[]> DeleteBatchAsync(string name, IReadOnlyList<ulong> ids, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes every acknowledged write durable; a no-op in process for an in-memory database, while a server without
    /// storage refuses it.
    /// </summary>
    Task FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Reclaims the disk space of deleted and overwritten vectors of <paramref name="name"/> (snapshot plus log
    /// truncation). A server, whose protocol has no per-collection form, snapshots every collection with changes.
    /// </summary>
    Task CompactAsync(string name, CancellationToken cancellationToken = default);
}
