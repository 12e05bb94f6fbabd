namespace VectorStore.Cluster.Hosting;

/// <summary>Settings of the VectorStore part of one silo. Defaults are documented per property.</summary>
public sealed class VectorStoreSiloOptions
{
    /// <summary>
    /// This silo's own database directory (one embedded <c>VectorDatabase</c>; each shard copy is a collection in
    /// it). Required; never shared between silos.
    /// </summary>
    public string DataDirectory { get; set; } = "";

    /// <summary>
    /// A directory every silo can read and write, holding the layout and catalog (the only strongly consistent
    /// metadata), or null when the host registers its own Orleans grain storage named
    /// <see cref="ClusterStorage.Name"/> (Azure Table, ADO.NET, Redis, …). Default null.
    /// </summary>
    public string? MetadataDirectory { get; set; }

    /// <summary>Records per page when a shard is copied to a new replica or a training sample moves. Default 1,024.</summary>
    public int CopyPageSize { get; set; } = 1024;

    /// <summary>How often the elected silo re-checks every layout against membership (after failed repairs, say). Default 10 s.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(10);
}
