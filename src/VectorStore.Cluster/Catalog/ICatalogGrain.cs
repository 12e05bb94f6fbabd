using VectorStore.Cluster.Layout;

namespace VectorStore.Cluster.Catalog;

/// <summary>The names of every distributed collection in the cluster (one grain, key <see cref="Key"/>).</summary>
internal interface ICatalogGrain : IGrainWithStringKey
{
    /// <summary>The single catalog's key.</summary>
    const string Key = "catalog";

    /// <summary>Creates the collection's layout and shards and records its name.</summary>
    [ResponseTimeout("00:05:00")]
    Task<ClusterLayout> CreateAsync(string database, string collection, CollectionSpec spec, int shards, int replication);

    /// <summary>Collections of <paramref name="database"/>, sorted; every <c>database/collection</c> key when null.</summary>
    Task<string[]> ListAsync(string? database);

    /// <summary>Drops a collection everywhere; false when it did not exist.</summary>
    [ResponseTimeout("00:05:00")]
    Task<bool> DropAsync(string database, string collection);
}
