using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;
using VectorStore.Collections;
using MevdException = Microsoft.Extensions.VectorData.VectorStoreException;

namespace VectorStore.VectorData;

/// <summary>
/// A VectorStore collection as a <see cref="VectorStoreCollection{TKey, TRecord}"/>, over any
/// <see cref="IVectorDatabaseClient"/> (an embedded database through <c>InProcessDatabaseClient</c>, or a server through
/// <c>VectorStoreClient</c>). Records have one float32 vector property; data properties travel in the engine payload
/// (<see cref="RecordPayload"/>); keys are <see cref="ulong"/> (the engine id), <see cref="Guid"/> or <see cref="string"/>
/// (hashed to an id, stored and verified, see <see cref="RecordKeys"/>).
/// </summary>
/// <remarks>
/// Data properties marked <c>IsIndexed</c> become the collection's declared fields (named by their storage names,
/// typed as <see cref="RecordFields"/> maps them); each upsert passes their values, and
/// <see cref="VectorSearchOptions{TRecord}.Filter"/> is translated (<see cref="EngineFilterTranslator"/>) into the
/// engine's filter over them, answered by its field indexes during the search; filtered <c>GetAsync</c> lists the
/// matching ids through the same indexes. Thread-safe, as the client it wraps.
/// </remarks>
public sealed class EngineVectorStoreCollection<TKey, TRecord> : VectorStoreCollection<TKey, TRecord>
    where TKey : notnull
    where TRecord : class
{
    private readonly IVectorDatabaseClient _client;
    private readonly CollectionModel _model;
    private readonly VectorPropertyModel _vector;
    private readonly CollectionOptions _options;
    private readonly RecordFields _fields;
    private readonly VectorStoreCollectionMetadata _metadata;
    private readonly bool _similarity;

    internal EngineVectorStoreCollection(IVectorDatabaseClient client, string name, CollectionModel model, CollectionOptions defaults)
    {
        _client = client;
        Name = name;
        _model = model;
        _vector = model.VectorProperty;
        var metric = _vector.DistanceFunction switch
        {
            null or DistanceFunction.CosineSimilarity => Metric.Cosine,
            DistanceFunction.DotProductSimilarity => Metric.InnerProduct,
            DistanceFunction.EuclideanSquaredDistance => Metric.L2,
            var other => throw new NotSupportedException($"distance function {other} is not supported; use CosineSimilarity, DotProductSimilarity or EuclideanSquaredDistance"),
        };
        _similarity = metric != Metric.L2;
        _fields = new RecordFields(model);
        // The record model is the schema: its indexed properties are the fields, whatever the store's defaults say.
        _options = defaults with { Dimension = _vector.Dimensions, Metric = metric, Fields = _fields.Definitions };
        _metadata = new VectorStoreCollectionMetadata { VectorStoreSystemName = EngineVectorStore.SystemName, CollectionName = name };
    }

    /// <inheritdoc />
    public override string Name { get; }

    /// <inheritdoc />
    public override Task<bool> CollectionExistsAsync(CancellationToken cancellationToken = default) =>
        Run("CollectionExists", () => _client.CollectionExistsAsync(Name, cancellationToken));

    /// <inheritdoc />
    /// <remarks>An existing collection must have this model's dimension and metric (else a <see cref="MevdException"/>).</remarks>
    public override Task EnsureCollectionExistsAsync(CancellationToken cancellationToken = default) =>
        Run("EnsureCollectionExists", () => _client.GetOrCreateCollectionAsync(Name, _options, cancellationToken));

    /// <inheritdoc />
    public override Task EnsureCollectionDeletedAsync(CancellationToken cancellationToken = default) =>
        Run("EnsureCollectionDeleted", () => _client.DropCollectionAsync(Name, cancellationToken));

    /// <inheritdoc />
    public override async Task<TRecord?> GetAsync(TKey key, RecordRetrievalOptions? options = null, CancellationToken cancellationToken = default)
    {
        var records = await GetRecordsAsync([key], options?.IncludeVectors ?? false, cancellationToken).ConfigureAwait(false);
        return records[0];
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<TRecord> GetAsync(IEnumerable<TKey> keys, RecordRetrievalOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        foreach (var record in await GetRecordsAsync(keys.ToList(), options?.IncludeVectors ?? false, cancellationToken).ConfigureAwait(false))
            if (record is not null) yield return record;
    }

    /// <inheritdoc />
    /// <remarks>
    /// The filter is translated as <see cref="VectorSearchOptions{TRecord}.Filter"/> is and answered by the engine's field
    /// indexes (<c>IVectorDatabaseClient.ListMatchingIdsAsync</c>; protocol version 6 over TCP). Without
    /// <see cref="FilteredRecordRetrievalOptions{TRecord}.OrderBy"/> records come in ascending engine-id order and only
    /// <c>Skip + top</c> of them are read. With it every matching record is read and sorted here (by the data
    /// properties named, nulls first when ascending), so an order over a large match set costs its size in memory.
    /// </remarks>
    public override IAsyncEnumerable<TRecord> GetAsync(Expression<Func<TRecord, bool>> filter, int top, FilteredRecordRetrievalOptions<TRecord>? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new FilteredRecordRetrievalOptions<TRecord>();
        ThrowIfBeyondPaging(options.Skip, top);
        // Translated and resolved at the call, so an unsupported filter or order fails there as NotSupportedException.
        var where = EngineFilterTranslator.Translate(filter, _model, _fields, out bool matchesNothing);
        var order = options.OrderBy is null ? [] : RecordOrder.Resolve(options.OrderBy(new FilteredRecordRetrievalOptions<TRecord>.OrderByDefinition()).Values, _model);
        return matchesNothing ? NothingAsync("Get", cancellationToken) : GetMatchingAsync(where, order, options.Skip, top, options.IncludeVectors, cancellationToken);
    }

    /// <summary>
    /// Refuses a negative skip, and a skip and top whose sum (the number of results asked of the engine) is beyond
    /// int: it used to surface as an <see cref="OverflowException"/> from the first page.
    /// </summary>
    private static void ThrowIfBeyondPaging(int skip, int top)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(skip);
        if ((long)skip + top > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(skip), skip, $"skip + top must be at most {int.MaxValue}, got {(long)skip + top}");
    }

    /// <summary>
    /// No results: a filter no record can match (<c>x =&gt; false</c>) needs no search or listing, only the check that
    /// the collection exists, so that a missing one fails as it does under any other filter.
    /// </summary>
    private async IAsyncEnumerable<TRecord> NothingAsync(string operation, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await ThrowIfMissingAsync(operation, cancellationToken).ConfigureAwait(false);
        yield break;
    }

    private Task ThrowIfMissingAsync(string operation, CancellationToken cancellationToken) => Run(operation, async () =>
    {
        if (!await _client.CollectionExistsAsync(Name, cancellationToken).ConfigureAwait(false))
            throw new InvalidArgumentException($"collection '{Name}' does not exist");
    });

    private async IAsyncEnumerable<TRecord> GetMatchingAsync(VectorStore.Filtering.FilterExpression? where, RecordOrder.Key[] order, int skip, int top, bool includeVectors,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        int wanted = checked(skip + top);
        var page = await Run("Get", async () =>
        {
            var ids = await MatchingIdsAsync(where, order.Length == 0 ? wanted : int.MaxValue, cancellationToken).ConfigureAwait(false);
            var found = await FetchAsync(ids, cancellationToken).ConfigureAwait(false);
            // Deleted between the listing and the fetch: left out, as a store without snapshot reads would.
            var stored = found.OfType<VectorRecord>().ToList();
            if (order.Length == 0) return stored.Skip(skip).Take(top).Select(r => ToRecord(r, includeVectors)).ToList();
            var records = stored.Select(r => ToRecord(r, includeVectors)).ToList();
            return RecordOrder.Sort(records, order).Skip(skip).Take(top).ToList();
        }).ConfigureAwait(false);
        foreach (var record in page) yield return record;
    }

    /// <summary>The first <paramref name="count"/> ids (ascending) whose fields <paramref name="where"/> admits, a page per transfer limit.</summary>
    private async Task<List<ulong>> MatchingIdsAsync(VectorStore.Filtering.FilterExpression? where, int count, CancellationToken cancellationToken)
    {
        var ids = new List<ulong>();
        ulong? after = null;
        while (ids.Count < count)
        {
            int limit = Math.Min(count - ids.Count, Math.Max(1, _client.Limits.MaxBatch));
            var page = await _client.ListMatchingIdsAsync(Name, where, after, limit, cancellationToken).ConfigureAwait(false);
            ids.AddRange(page.Ids);
            if (!page.More || page.Ids.Length == 0) break;
            after = page.Ids[^1];
        }
        return ids;
    }

    /// <inheritdoc />
    public override Task DeleteAsync(TKey key, CancellationToken cancellationToken = default) => DeleteAsync([key], cancellationToken);

    /// <inheritdoc />
    /// <remarks>Absent keys are ignored. A hashed key is deleted only when the id holds that very key.</remarks>
    public override Task DeleteAsync(IEnumerable<TKey> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var list = keys.ToList();
        return Run("Delete", async () =>
        {
            var mapped = list.Select(k => RecordKeys.Map(k)).ToList();
            var ids = new List<ulong>();
            if (mapped.Any(m => m.Stored is not null))
            {
                var existing = await FetchAsync(mapped.Select(m => m.Id).ToList(), cancellationToken).ConfigureAwait(false);
                for (int i = 0; i < mapped.Count; i++)
                    if (existing[i] is { } r && RecordPayload.ReadKey(r.Payload) == mapped[i].Stored) ids.Add(mapped[i].Id);
            }
            else ids.AddRange(mapped.Select(m => m.Id));
            int step = Math.Max(1, _client.Limits.MaxBatch);
            for (int at = 0; at < ids.Count; at += step)
                await _client.DeleteBatchAsync(Name, ids.GetRange(at, Math.Min(step, ids.Count - at)), cancellationToken).ConfigureAwait(false);
        });
    }

    /// <inheritdoc />
    public override Task UpsertAsync(TRecord record, CancellationToken cancellationToken = default) => UpsertAsync([record], cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// One validated engine batch per transfer limit. A hashed key whose id already holds a different key (a 64-bit
    /// hash collision) is refused before anything is written.
    /// </remarks>
    public override Task UpsertAsync(IEnumerable<TRecord> records, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        var list = records.ToList();
        return Run("Upsert", async () =>
        {
            if (list.Count == 0) return;
            var ids = new ulong[list.Count];
            var stored = new string?[list.Count];
            var payloads = new byte[]?[list.Count];
            var fields = _fields.Definitions is null ? null : new IReadOnlyDictionary<string, VectorStore.Filtering.FieldValue>?[list.Count];
            var vectors = new VectorMatrix(list.Count, _vector.Dimensions);
            for (int i = 0; i < list.Count; i++)
            {
                var record = list[i] ?? throw new ArgumentNullException(nameof(records), "a record is null");
                (ids[i], stored[i]) = RecordKeys.Map(_model.KeyProperty.GetValueAsObject(record) ?? throw new ArgumentException("a record has no key"));
                var v = VectorOf(_vector.GetValueAsObject(record));
                if (v.Length != _vector.Dimensions)
                    throw new InvalidVectorException($"record vector has {v.Length} dimensions, the collection {_vector.Dimensions}");
                v.Span.CopyTo(vectors[i]);
                // Fields first: an indexed property's NaN or infinity is refused there, naming the property (the payload
                // alone would store it, as it does a data property's that is not indexed).
                if (fields is not null) fields[i] = _fields.ValuesOf(record);
                payloads[i] = RecordPayload.Write(stored[i], _model.DataProperties, record);
            }
            if (stored.Any(s => s is not null))
            {
                var existing = await FetchAsync(ids, cancellationToken).ConfigureAwait(false);
                for (int i = 0; i < ids.Length; i++)
                    if (existing[i] is { } r && RecordPayload.ReadKey(r.Payload) is { } have && have != stored[i])
                        throw new InvalidArgumentException($"key '{stored[i]}' hashes to the id of existing key '{have}'; refusing to replace it");
            }
            int step = Math.Max(1, Math.Min(_client.Limits.UpsertBatchSize(_vector.Dimensions, payloads.Max(p => p?.Length ?? 0)), _client.Limits.MaxBatch));
            for (int at = 0; at < ids.Length; at += step)
            {
                int n = Math.Min(step, ids.Length - at);
                await _client.UpsertBatchAsync(Name, ids.AsSpan(at, n).ToArray(), vectors.Slice(at, n), payloads.AsSpan(at, n).ToArray(),
                    fields?.AsSpan(at, n).ToArray(), cancellationToken).ConfigureAwait(false);
            }
        });
    }

    /// <inheritdoc />
    /// <remarks>
    /// <paramref name="searchValue"/> is a <see cref="ReadOnlyMemory{T}"/> of float, a float array or an
    /// <see cref="Embedding{T}"/> of float (no embedding generation). Scores are the engine's: similarities for cosine
    /// and dot product (higher is better), squared distances for Euclidean (lower is better);
    /// <see cref="VectorSearchOptions{TRecord}.ScoreThreshold"/> keeps scores at least (similarities) or at most
    /// (distances) the threshold.
    /// </remarks>
    public override async IAsyncEnumerable<VectorSearchResult<TRecord>> SearchAsync<TInput>(TInput searchValue, int top, VectorSearchOptions<TRecord>? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        options ??= new VectorSearchOptions<TRecord>();
        // Translated before anything runs, so an unsupported filter fails as NotSupportedException, not as an engine error.
        bool matchesNothing = false;
        var where = options.Filter is null ? null : EngineFilterTranslator.Translate(options.Filter, _model, _fields, out matchesNothing);
        ThrowIfBeyondPaging(options.Skip, top);
        var query = searchValue is string
            ? throw new NotSupportedException("text search values need an embedding generator, which this provider does not support; pass a vector")
            : VectorOf(searchValue);
        if (matchesNothing)
        {
            await ThrowIfMissingAsync("Search", cancellationToken).ConfigureAwait(false);
            yield break;
        }
        var (hits, records) = await Run("Search", async () =>
        {
            int k = checked(top + options.Skip);
            var found = await _client.SearchAsync(Name, query, new SearchOptions { K = k, Filter = where is null ? null : new SearchFilter { Where = where } }, cancellationToken).ConfigureAwait(false);
            var page = found.Skip(options.Skip).Where(h => options.ScoreThreshold is not { } t || (_similarity ? h.Score >= t : h.Score <= t)).ToArray();
            var fetched = await FetchAsync(page.Select(h => h.Id).ToList(), cancellationToken).ConfigureAwait(false);
            return (page, fetched);
        }).ConfigureAwait(false);
        for (int i = 0; i < hits.Length; i++)
        {
            // Deleted between the search and the fetch: skipped, as a store without snapshot reads would.
            if (records[i] is not { } r) continue;
            yield return new VectorSearchResult<TRecord>(ToRecord(r, options.IncludeVectors), hits[i].Score);
        }
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(VectorStoreCollectionMetadata)) return _metadata;
        return serviceType.IsInstanceOfType(_client) ? _client : null;
    }

    private async Task<TRecord?[]> GetRecordsAsync(IReadOnlyList<TKey> keys, bool includeVectors, CancellationToken cancellationToken)
    {
        return await Run("Get", async () =>
        {
            var mapped = keys.Select(k => RecordKeys.Map(k)).ToList();
            var found = await FetchAsync(mapped.Select(m => m.Id).ToList(), cancellationToken).ConfigureAwait(false);
            var records = new TRecord?[keys.Count];
            for (int i = 0; i < records.Length; i++)
                if (found[i] is { } r && (mapped[i].Stored is null || RecordPayload.ReadKey(r.Payload) == mapped[i].Stored))
                    records[i] = ToRecord(r, includeVectors);
            return records;
        }).ConfigureAwait(false);
    }

    private async Task<VectorRecord?[]> FetchAsync(IReadOnlyList<ulong> ids, CancellationToken cancellationToken)
    {
        var all = new VectorRecord?[ids.Count];
        int step = Math.Max(1, Math.Min(_client.Limits.GetBatchSize(_vector.Dimensions), _client.Limits.MaxBatch));
        for (int at = 0; at < ids.Count; at += step)
        {
            int n = Math.Min(step, ids.Count - at);
            var part = await _client.GetBatchAsync(Name, ids.Skip(at).Take(n).ToList(), cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < n; i++) all[at + i] = part[i];
        }
        return all;
    }

    private TRecord ToRecord(VectorRecord stored, bool includeVectors)
    {
        var record = _model.CreateRecord<TRecord>()!;
        _model.KeyProperty.SetValueAsObject(record, RecordKeys.FromStored(_model.KeyProperty.Type, stored.Id, RecordPayload.ReadKey(stored.Payload)));
        RecordPayload.Read(stored.Payload, _model.DataProperties, record);
        if (includeVectors)
        {
            var t = _vector.Type;
            object value = t == typeof(float[]) ? stored.Vector
                : t == typeof(Embedding<float>) ? new Embedding<float>(stored.Vector)
                : new ReadOnlyMemory<float>(stored.Vector);
            _vector.SetValueAsObject(record, value);
        }
        return record;
    }

    private static ReadOnlyMemory<float> VectorOf(object? value) => value switch
    {
        ReadOnlyMemory<float> m => m,
        float[] a => a,
        Embedding<float> e => e.Vector,
        null => throw new ArgumentException("a record or query has no vector"),
        _ => throw new NotSupportedException($"vector values of type {value.GetType().Name} are not supported; use ReadOnlyMemory<float>, float[] or Embedding<float>"),
    };

    /// <summary>Runs a call, wrapping engine and transport failures in VectorData's exception (argument and cancellation errors pass through).</summary>
    private async Task<T> Run<T>(string operation, Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (e is VectorStore.VectorStoreException or IOException or System.Net.Sockets.SocketException)
        {
            throw new MevdException($"{operation} on collection '{Name}' failed: {e.Message}", e)
            {
                VectorStoreSystemName = EngineVectorStore.SystemName, CollectionName = Name, OperationName = operation,
            };
        }
    }

    private Task Run(string operation, Func<Task> call) => Run(operation, async () =>
    {
        await call().ConfigureAwait(false);
        return true;
    });
}
