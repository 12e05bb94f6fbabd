namespace VectorStore.Cluster.Shards;

/// <summary>
/// One or more queries for one shard, with every <c>SearchOptions</c> field that can cross a process. A record, so one
/// shard's part of an id filter is set with <c>with</c> and no field can be left behind.
/// </summary>
[GenerateSerializer, Immutable]
internal sealed record ShardQuery
{
    /// <summary>Row-major queries (already normalized for cosine).</summary>
    [Id(0)] public float[] Queries { get; init; } = [];
    [Id(1)] public int Dimension { get; init; }

    /// <summary>k′: what the shard returns per query (k, over-fetched).</summary>
    [Id(2)] public int K { get; init; }
    [Id(3)] public int Rerank { get; init; }
    [Id(4)] public double TargetRecall { get; init; }
    [Id(5)] public int Ef { get; init; }
    [Id(6)] public int NProbe { get; init; }

    /// <summary>This shard's part of an id filter, or null for none.</summary>
    [Id(7)] public ulong[]? FilterIds { get; init; }

    /// <summary>
    /// The field filter in the filter language (<c>FilterExpression.ToString</c>, parsed back with
    /// <c>FilterParser</c>: the language's canonical text round-trips every tree), or null for none.
    /// </summary>
    [Id(8)] public string? Where { get; init; }

    /// <summary>The search's A/B exposure key (the same key picks the same generation on every shard), or null.</summary>
    [Id(9)] public string? ExposureKey { get; init; }

    /// <summary>The incarnation of the collection the query was routed for (0 = not known); a copy of another refuses.</summary>
    [Id(10)] public long Incarnation { get; init; }

}
