using Orleans.Runtime;
using Orleans.Runtime.Placement;
using VectorStore.Cluster.Shards;

namespace VectorStore.Cluster.Hosting;

/// <summary>
/// A shard copy's data lives in one silo's directory, so its grain may only ever activate there. When that silo is
/// not active the activation fails (the caller sees the copy as unavailable) instead of starting an empty copy
/// elsewhere, which is what any load-balancing placement would do.
/// </summary>
/// <remarks>Thread-safety: stateless.</remarks>
internal sealed class PinnedPlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string silo = ShardKey.SiloOf(target.GrainIdentity.Key.ToString()!);
        // The key names the silo by identity (SiloIdentity): its address, or a stable name resolved through membership.
        if (SiloIdentity.Active(membership.CurrentSnapshot).TryGetValue(silo, out var address))
            foreach (var s in context.GetCompatibleSilos(target))
                if (s.Equals(address)) return Task.FromResult(s);
        throw new SiloUnavailableException($"silo {silo} holding {target.GrainIdentity} is not active");
    }
}
