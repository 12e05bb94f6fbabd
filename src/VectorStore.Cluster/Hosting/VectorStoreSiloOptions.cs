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

    /// <summary>
    /// A name that identifies this silo in every layout across restarts (1–64 of A–Z a–z 0–9 _ -; unique in the
    /// cluster; it sets the Orleans silo name to <c>vectorstore:{name}</c>). A restarted silo with the same name and
    /// <see cref="DataDirectory"/> takes back the shard copies the layout still gives it, from its own directory,
    /// instead of being refilled by copies; after every silo restarted, the cluster comes back with its data. Null:
    /// the silo is named by its Orleans address, new at every start (its copies are rebuilt elsewhere when it dies).
    /// Default null.
    /// </summary>
    public string? StableName { get; set; }

    /// <summary>Records per page when a shard is copied to a new replica or a training sample moves. Default 1,024.</summary>
    public int CopyPageSize { get; set; } = 1024;

    /// <summary>How often the elected silo re-checks every layout against membership (after failed repairs, say). Default 10 s.</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often this silo looks for shard copies in its <see cref="DataDirectory"/> that no layout gives it any more
    /// (moved away or dropped while the silo was down, or held under an identity it lost by restarting unnamed) and
    /// deletes them; the first look is one interval after the silo starts. A copy is deleted only on a layout that
    /// was read and shows the shard's primary active elsewhere, or on a recorded drop (docs/cluster.md, "Copies left
    /// behind"). <see cref="Timeout.InfiniteTimeSpan"/> turns it off. Default 1 minute.
    /// </summary>
    public TimeSpan OrphanSweepInterval { get; set; } = TimeSpan.FromMinutes(1);
}
