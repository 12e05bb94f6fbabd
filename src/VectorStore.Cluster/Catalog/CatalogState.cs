namespace VectorStore.Cluster.Catalog;

/// <summary>The catalog's persisted state: <c>database/collection</c> keys (docs/cluster.md, "Metadata on disk").</summary>
[GenerateSerializer]
internal sealed class CatalogState
{
    [Id(0)] public List<string> Collections { get; set; } = [];
}
