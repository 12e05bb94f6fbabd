using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using VectorStore.Cluster.Hosting;
using VectorStore.Cluster.Layout;

namespace VectorStore.Cluster.Shards;

internal sealed partial class ShardReplicaGrain
{
    public async Task<long> ReleaseIfOrphanedAsync()
    {
        // Decided in this grain's turn, so no push of a newer role interleaves between the read and the delete.
        // A copy given a role in this activation and never told otherwise keeps its data: if the push that retired it
        // was lost, it may still be acknowledging writes routed by a client's older layout, which would then exist
        // nowhere else. So only copies activated without a role (after a restart, or by the sweep) are deleted, with
        // one exception: a recorded drop is final, and a copy that missed the drop's push goes with it (a re-create
        // would otherwise adopt its data), unless its role comes from a layout newer than the dropped one (a re-create
        // being written, or a stale activation of the layout grain still holding the tombstone).
        var (layout, dropped, droppedVersion) = await GrainFactory.GetGrain<ILayoutGrain>(_key.LayoutKey).GetWithDropAsync();
        bool dropCovers = layout is null && dropped && _assignment.LayoutVersion <= droppedVersion;
        if (_assignment.Role != ShardRole.None && !dropCovers) return 0;
        var active = SiloIdentity.ActiveIdentities(membership.CurrentSnapshot);
        if (!OrphanedCopy.IsOrphaned(layout, dropped, _key.Shard, _key.Silo, active)) return 0;
        if (layout is not null && !await PrimaryServesAsync(layout.Shards[_key.Shard])) return 0;
        long bytes = await Task.Run(() =>
        {
            long freed = store.BytesOf(_key.LocalPrefix);
            Wipe();
            return freed;
        });
        _assignment = new();
        _copies.Clear();
        LogReleased(_key.ToString(), bytes, dropped ? "the collection was dropped" : $"layout version {layout!.Version} gives the shard to other silos");
        DeactivateOnIdle();
        return bytes;
    }

    /// <summary>
    /// Whether the shard's primary copy itself says it serves the shard at the layout's epoch. An active primary silo
    /// is not enough: a named silo restarted on an empty disk is active but holds nothing (it waits to be replaced),
    /// and this copy may then be the last one with the data.
    /// </summary>
    private async Task<bool> PrimaryServesAsync(ShardPlacement placement)
    {
        try
        {
            var primary = GrainFactory.GetGrain<IShardReplicaGrain>((_key with { Silo = placement.Primary }).ToString());
            var (_, _, role, epoch) = await primary.DescribeAsync().WaitAsync(PrimaryCheckTimeout);
            return role == ShardRole.Primary && epoch == placement.Epoch;
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            return false;
        }
    }

    private static readonly TimeSpan PrimaryCheckTimeout = TimeSpan.FromSeconds(10);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Key}: deleted this silo's copy ({Bytes} bytes), which no layout push had removed: {Reason}")]
    private partial void LogReleased(string key, long bytes, string reason);
}
