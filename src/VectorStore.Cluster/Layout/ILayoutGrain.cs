using Orleans.Concurrency;

namespace VectorStore.Cluster.Layout;

/// <summary>
/// The single writer of one collection's layout (key <c>{database}/{collection}</c>). Every change is persisted in
/// the metadata grain storage before any shard acts on it; changes are serialized, reads never wait for them.
/// </summary>
internal interface ILayoutGrain : IGrainWithStringKey
{
    /// <summary>Creates the layout and the empty shards; fails when the collection exists.</summary>
    [ResponseTimeout("00:05:00")]
    Task<ClusterLayout> CreateAsync(CollectionSpec spec, int shards, int replication);

    /// <summary>The current layout, or null when the collection does not exist.</summary>
    [AlwaysInterleave]
    Task<ClusterLayout?> GetAsync();

    /// <summary>
    /// The persisted layout, whether the collection was dropped (null layout) rather than never written, and the
    /// dropped layout's last version.
    /// </summary>
    [AlwaysInterleave]
    Task<(ClusterLayout? Layout, bool Dropped, long DroppedVersion)> GetWithDropAsync();

    /// <summary>Brings the layout in line with membership: promote replicas of dead primaries, re-replicate, rebalance.</summary>
    [ResponseTimeout("01:00:00")]
    Task ReconcileAsync();

    /// <summary>
    /// A copy failed to apply a batch (or did not answer). If its silo is dead this reconciles; if it is alive the
    /// copy is ejected (it may miss an acknowledged write) and replaced by a fresh copy. Ignored when
    /// <paramref name="epoch"/> is no longer the shard's epoch.
    /// </summary>
    [OneWay]
    Task ReportFailureAsync(int shard, string silo, long epoch);

    /// <summary>
    /// A copy on a live silo found itself without its data (a stable name back on a wiped disk, say): it leaves the
    /// shard, a live in-sync replica taking over if it was the primary (new epoch), and repair makes a fresh copy.
    /// Ignored when <paramref name="epoch"/> is no longer the shard's epoch, or when a primary has no live replica to
    /// hand over to (the shard stays unavailable rather than empty).
    /// </summary>
    [OneWay]
    Task ReportLostCopyAsync(int shard, string silo, long epoch);

    /// <summary>
    /// Trains every shard on one shared sample so all shards score with the same codec. With
    /// <paramref name="force"/> false, only when untrained and the collection has reached its training threshold.
    /// </summary>
    [ResponseTimeout("01:00:00")]
    Task TrainAsync(bool force);

    /// <summary>Records a candidate compression generation (trained collections only); returns its number.</summary>
    [ResponseTimeout("00:05:00")]
    Task<int> DeclareGenerationAsync(string compression, string index);

    /// <summary>
    /// Builds declared generation <paramref name="number"/> on every in-sync copy from one shared sample and waits for
    /// it; null when every copy built it, else which failed and why.
    /// </summary>
    [AlwaysInterleave, ResponseTimeout("02:00:00")]
    Task<string?> BuildGenerationAsync(int number);

    /// <summary>Makes a generation live (promote; with a gate as JSON) or the newest retired one (rollback) everywhere; returns its number.</summary>
    [ResponseTimeout("02:00:00")]
    Task<int> SetLiveAsync(int number, bool rollback, string? gate);

    /// <summary>Drops retired generations beyond retention, rolled-back ones beyond the same count, and failed candidates everywhere; returns how many.</summary>
    [ResponseTimeout("00:10:00")]
    Task<int> CollectGenerationsAsync();

    /// <summary>What the collection's drift ladder did so far, oldest first.</summary>
    [AlwaysInterleave]
    Task<string[]> LadderActionsAsync();

    /// <summary>Sets the collection's lifecycle policy (JSON; an automatic rollback floor is refused).</summary>
    [ResponseTimeout("00:05:00")]
    Task SetPolicyAsync(string policy);

    /// <summary>Removes the collection from every silo and replaces the layout with a record of the drop.</summary>
    [ResponseTimeout("00:05:00")]
    Task DropAsync();
}
