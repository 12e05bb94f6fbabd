using Orleans.Runtime;

namespace VectorStore.Cluster.Hosting;

/// <summary>Places a grain on the silo named in the first <c>|</c>-separated part of its string key, and nowhere else.</summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class PinnedPlacementStrategy : PlacementStrategy
{
}
