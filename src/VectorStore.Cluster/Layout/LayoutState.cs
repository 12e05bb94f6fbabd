namespace VectorStore.Cluster.Layout;

/// <summary>The layout grain's persisted state (docs/cluster.md, "Metadata on disk").</summary>
[GenerateSerializer]
internal sealed class LayoutState
{
    /// <summary>The current layout; null before creation and after a drop.</summary>
    [Id(0)] public ClusterLayout? Layout { get; set; }

    /// <summary>
    /// True once the collection was dropped (until it is created again): a silo that was down during the drop deletes
    /// its copies on this, and never on a layout that is merely missing.
    /// </summary>
    [Id(1)] public bool Dropped { get; set; }

    /// <summary>After a drop: the dropped layout's last version (a re-created collection's layout starts above it).</summary>
    [Id(2)] public long DroppedVersion { get; set; }

    /// <summary>After a drop: how many shards the dropped collection had (a re-create first clears their copies).</summary>
    [Id(3)] public int DroppedShards { get; set; }
}
