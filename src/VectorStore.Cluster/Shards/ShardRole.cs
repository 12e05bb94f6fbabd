namespace VectorStore.Cluster.Shards;

/// <summary>What a silo's copy of a shard does.</summary>
[GenerateSerializer]
internal enum ShardRole
{
    /// <summary>Holds nothing (never assigned, or retired): refuses everything.</summary>
    None = 0,

    /// <summary>Orders writes, applies them, forwards them, acknowledges them.</summary>
    Primary = 1,

    /// <summary>In sync: applies every batch the primary forwards; answers reads.</summary>
    Replica = 2,

    /// <summary>Being filled by a copy; applies forwarded batches; answers no read.</summary>
    Learner = 3,
}
