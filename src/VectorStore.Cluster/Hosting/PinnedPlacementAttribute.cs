using Orleans.Placement;

namespace VectorStore.Cluster.Hosting;

/// <summary>Marks a grain class for <see cref="PinnedPlacementStrategy"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class PinnedPlacementAttribute() : PlacementAttribute(new PinnedPlacementStrategy())
{
}
