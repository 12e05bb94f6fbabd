using System.Runtime.CompilerServices;
using Microsoft.Extensions.VectorData;
using VectorStore.Collections;
using MevdStore = Microsoft.Extensions.VectorData.VectorStore;

namespace VectorStore.VectorData;

/// <summary>
/// The Microsoft.Extensions.VectorData <see cref="MevdStore"/> of a VectorStore database, in this process
/// (<c>new EngineVectorStore(new InProcessDatabaseClient(db))</c>) or behind a server (<c>VectorStoreClient</c>).
/// </summary>
/// <remarks>Thread-safe, as the client it wraps. Disposing it disposes the client only when it owns it.</remarks>
public sealed class EngineVectorStore : MevdStore
{
    /// <summary>The value of <c>VectorStoreSystemName</c> in metadata and errors.</summary>
    public const string SystemName = "vectorstore";

    private readonly IVectorDatabaseClient _client;
    private readonly bool _ownsClient;
    private readonly CollectionOptions _defaults;
    private readonly VectorStoreMetadata _metadata = new() { VectorStoreSystemName = SystemName };

    /// <summary>
    /// A store over <paramref name="client"/>. New collections take <paramref name="collectionDefaults"/> (compression,
    /// index, training settings; the dimension and metric come from the record's vector property); default: the
    /// engine's defaults.
    /// </summary>
    public EngineVectorStore(IVectorDatabaseClient client, CollectionOptions? collectionDefaults = null, bool ownsClient = false)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _ownsClient = ownsClient;
        _defaults = collectionDefaults ?? new CollectionOptions { Dimension = 1 };
    }

    /// <inheritdoc />
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode("Reads the record type's properties by reflection; use GetDynamicCollection under trimming.")]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode("Reads the record type's properties by reflection; use GetDynamicCollection under AOT.")]
    public override VectorStoreCollection<TKey, TRecord> GetCollection<TKey, TRecord>(string name, VectorStoreCollectionDefinition? definition = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var model = new EngineModelBuilder().Build(typeof(TRecord), typeof(TKey), definition, defaultEmbeddingGenerator: null);
        if (typeof(TKey) != typeof(object) && model.KeyProperty.Type != typeof(TKey))
            throw new NotSupportedException($"the collection's key type is {typeof(TKey).Name}, but the record's key property '{model.KeyProperty.ModelName}' is {model.KeyProperty.Type.Name}");
        return new EngineVectorStoreCollection<TKey, TRecord>(_client, name, model, _defaults);
    }

    /// <inheritdoc />
    public override VectorStoreCollection<object, Dictionary<string, object?>> GetDynamicCollection(string name, VectorStoreCollectionDefinition definition)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(definition);
        var model = new EngineModelBuilder().BuildDynamic(definition, defaultEmbeddingGenerator: null);
        return new EngineVectorStoreCollection<object, Dictionary<string, object?>>(_client, name, model, _defaults);
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<string> ListCollectionNamesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var name in await _client.CollectionNamesAsync(cancellationToken).ConfigureAwait(false)) yield return name;
    }

    /// <inheritdoc />
    public override Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default) => _client.CollectionExistsAsync(name, cancellationToken);

    /// <inheritdoc />
    public override Task EnsureCollectionDeletedAsync(string name, CancellationToken cancellationToken = default) => _client.DropCollectionAsync(name, cancellationToken);

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(VectorStoreMetadata)) return _metadata;
        return serviceType.IsInstanceOfType(_client) ? _client : null;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing && _ownsClient) _client.DisposeAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose(disposing);
    }
}
