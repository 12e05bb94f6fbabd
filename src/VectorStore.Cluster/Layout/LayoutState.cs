namespace VectorStore.Cluster.Layout;

/// <summary>The layout grain's persisted state (docs/cluster.md, "Metadata on disk").</summary>
[GenerateSerializer]
internal sealed class LayoutState
{
    /// <summary>The current layout; null before creation and after a drop.</summary>
    [Id(0)] public ClusterLayout? Layout { get; set; }
}
