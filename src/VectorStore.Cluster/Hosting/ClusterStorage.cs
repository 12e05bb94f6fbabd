namespace VectorStore.Cluster.Hosting;

/// <summary>Names shared by the silo configuration and the grains.</summary>
public static class ClusterStorage
{
    /// <summary>The Orleans grain storage provider that holds layouts and the catalog.</summary>
    public const string Name = "vectorstore-metadata";
}
