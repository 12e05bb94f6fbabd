using VectorStore.Cluster.Catalog;
using VectorStore.Cluster.Layout;
using VectorStore.Collections;

namespace VectorStore.Cluster;

/// <summary>
/// The distributed counterpart of <see cref="VectorDatabase"/>: named collections spread over the silos of an
/// Orleans cluster, with the same collection surface. Works from an <c>IClusterClient</c> (outside the cluster)
/// or from inside a silo (any <see cref="IGrainFactory"/>); it is a stateless coordinator apart from a cached copy
/// of each layout.
/// </summary>
/// <remarks>
/// Thread-safety: safe from any thread. The synchronous methods block the caller until the cluster answers; inside
/// a grain use the <c>Async</c> ones.
/// </remarks>
public sealed class DistributedDatabase
{
    private readonly IGrainFactory _grains;

    /// <summary>A coordinator for the database called <paramref name="name"/> in the cluster behind <paramref name="grains"/>.</summary>
    public DistributedDatabase(IGrainFactory grains, string name = "default", ClusterCoordinatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(grains);
        ValidateName(name, 32, "database");
        _grains = grains;
        Name = name;
        Options = options ?? new ClusterCoordinatorOptions();
    }

    /// <summary>The database's name.</summary>
    public string Name { get; }

    /// <summary>Routing and timeout settings.</summary>
    public ClusterCoordinatorOptions Options { get; }

    /// <summary>
    /// Creates a collection split into <paramref name="shards"/> shards (0 = two per active silo), each kept on
    /// <paramref name="replicationFactor"/> silos (0 = min(2, active silos)).
    /// </summary>
    public async Task<DistributedCollection> CreateCollectionAsync(string name, CollectionOptions options, int shards = 0, int replicationFactor = 0)
    {
        ValidateName(name, 80, "collection");
        ArgumentNullException.ThrowIfNull(options);
        options.ValidateNew();
        var spec = CollectionSpec.From(options);
        var layout = await GrainCalls.RunAsync(() => Catalog.CreateAsync(Name, name, spec, shards, replicationFactor), $"creating collection '{name}'", mayHaveApplied: true);
        return new DistributedCollection(_grains, layout, Options);
    }

    /// <inheritdoc cref="CreateCollectionAsync"/>
    public DistributedCollection CreateCollection(string name, CollectionOptions options, int shards = 0, int replicationFactor = 0) =>
        CreateCollectionAsync(name, options, shards, replicationFactor).GetAwaiter().GetResult();

    /// <summary>The collection called <paramref name="name"/>, or an <see cref="InvalidArgumentException"/>.</summary>
    public async Task<DistributedCollection> GetCollectionAsync(string name)
    {
        ValidateName(name, 80, "collection");
        var layout = await GrainCalls.RunAsync(() => _grains.GetGrain<ILayoutGrain>($"{Name}/{name}").GetAsync(), $"reading collection '{name}'")
            ?? throw new InvalidArgumentException($"collection '{name}' does not exist");
        return new DistributedCollection(_grains, layout, Options);
    }

    /// <inheritdoc cref="GetCollectionAsync"/>
    public DistributedCollection GetCollection(string name) => GetCollectionAsync(name).GetAwaiter().GetResult();

    /// <summary>Names of the collections, sorted.</summary>
    public async Task<IReadOnlyList<string>> CollectionNamesAsync() => await GrainCalls.RunAsync(() => Catalog.ListAsync(Name), "listing collections");

    /// <inheritdoc cref="CollectionNamesAsync"/>
    public IReadOnlyList<string> CollectionNames => CollectionNamesAsync().GetAwaiter().GetResult();

    /// <summary>Deletes a collection and its data on every silo; false when it did not exist.</summary>
    public Task<bool> DropCollectionAsync(string name)
    {
        ValidateName(name, 80, "collection");
        return GrainCalls.RunAsync(() => Catalog.DropAsync(Name, name), $"dropping collection '{name}'", mayHaveApplied: true);
    }

    /// <inheritdoc cref="DropCollectionAsync"/>
    public bool DropCollection(string name) => DropCollectionAsync(name).GetAwaiter().GetResult();

    private ICatalogGrain Catalog => _grains.GetGrain<ICatalogGrain>(ICatalogGrain.Key);

    /// <summary>
    /// The engine's collection-name rule without '.', and shorter: a shard's local collection is
    /// <c>{database}.{collection}.{shard}.d{n}</c>, which must stay within the engine's 128 characters and must not
    /// start like another collection's (with '.' allowed, "a" shard 1 would prefix "a.1" shard 2).
    /// </summary>
    private static void ValidateName(string name, int max, string what)
    {
        if (string.IsNullOrEmpty(name) || name.Length > max || !name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-'))
            throw new InvalidArgumentException($"invalid {what} name '{name}' (1–{max} of A–Z a–z 0–9 _ -)");
    }
}
