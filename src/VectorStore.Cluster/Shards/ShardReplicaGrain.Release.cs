using Microsoft.Extensions.Logging;
using VectorStore.Cluster.Hosting;
using VectorStore.Cluster.Layout;

namespace VectorStore.Cluster.Shards;

internal sealed partial class ShardReplicaGrain
{
    public async Task<long> ReleaseIfOrphanedAsync()
    {
        // In this grain's turn, so no push of a newer role interleaves between the read and the delete; a push that
        // arrived before it and is newer than the read wins.
        var (layout, dropped) = await GrainFactory.GetGrain<ILayoutGrain>(_key.LayoutKey).GetWithDropAsync();
        if (layout is not null && _assignment.Role != ShardRole.None && _assignment.LayoutVersion > layout.Version) return 0;
        var active = SiloIdentity.Active(membership.CurrentSnapshot).Keys.ToHashSet(StringComparer.Ordinal);
        if (!OrphanedCopy.IsOrphaned(layout, dropped, _key.Shard, _key.Silo, active)) return 0;
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Key}: deleted this silo's copy ({Bytes} bytes), which no layout push had removed: {Reason}")]
    private partial void LogReleased(string key, long bytes, string reason);
}
