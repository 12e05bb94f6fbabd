namespace VectorStore.Cluster.Shards;

/// <summary>Result of a write or forwarded batch at one copy of a shard.</summary>
[GenerateSerializer]
internal enum WriteStatus
{
    /// <summary>Durable on the primary and on R−1 others (or, for a forwarded batch, durable here).</summary>
    Ok = 0,

    /// <summary>The sender's epoch or role is not this copy's: re-read the layout and retry.</summary>
    Stale = 1,

    /// <summary>An in-sync replica did not apply the batch; the layout grain ejects it. Retry.</summary>
    ReplicaFailed = 2,

    /// <summary>Fewer than R copies applied the batch (too few live silos). Retry later.</summary>
    InsufficientReplicas = 3,
}
