using Orleans.Concurrency;

namespace VectorStore.Cluster.Shards;

/// <summary>
/// One silo's copy of one shard (key: <see cref="ShardKey"/>), placed on that silo only. Writes, copies and training
/// steps are one at a time and in arrival order (the grain is not reentrant), which is what keeps the primary's
/// followers in the primary's order; reads interleave with everything and run on the thread pool.
/// </summary>
internal interface IShardReplicaGrain : IGrainWithStringKey
{
    /// <summary>Takes the role the layout grain computed; a new learner session starts from empty.</summary>
    [ResponseTimeout("00:02:00")]
    Task ConfigureAsync(ShardAssignment assignment);

    /// <summary>At the primary: applies durably, forwards to every follower, acknowledges once R copies have it.</summary>
    Task<WriteOutcome> WriteAsync(ShardBatch batch, long epoch);

    /// <summary>At a follower: applies a batch forwarded by the primary of <paramref name="epoch"/>.</summary>
    Task<WriteOutcome> ApplyAsync(ShardBatch batch, long epoch);

    /// <summary>Searches this copy (primary or in-sync replica).</summary>
    [AlwaysInterleave]
    Task<ShardHits> SearchAsync(ShardQuery query);

    /// <summary>The stored records among <paramref name="ids"/>.</summary>
    [AlwaysInterleave]
    Task<RecordPage> GetAsync(ulong[] ids);

    /// <summary>Live vectors.</summary>
    [AlwaysInterleave]
    Task<int> CountAsync();

    /// <summary>
    /// Up to <paramref name="limit"/> live ids greater than <paramref name="after"/> (all when null) whose field values
    /// <paramref name="where"/> (filter-language text, null for none) admits, ascending; one more than
    /// <paramref name="limit"/> is never returned, so the caller asks for limit + 1 to learn whether more follow.
    /// </summary>
    [AlwaysInterleave]
    Task<ulong[]> IdsAfterAsync(ulong? after, int limit, string? where);

    /// <summary>The engine's statistics of this copy, with its bytes on disk.</summary>
    [AlwaysInterleave]
    Task<ShardStats> StatsAsync();

    /// <summary>
    /// Compacts this copy (the engine's snapshot and log truncation); interleaves with writes, which the engine's
    /// compaction lets continue.
    /// </summary>
    [AlwaysInterleave, ResponseTimeout("00:30:00")]
    Task CompactAsync();

    /// <summary>A seeded uniform sample of at most <paramref name="count"/> live ids, ascending.</summary>
    [AlwaysInterleave]
    Task<ulong[]> SampleIdsAsync(int count, int seed);

    /// <summary>Ids and payloads (no vectors) of <paramref name="ids"/>, or of every entry when null.</summary>
    [AlwaysInterleave]
    Task<RecordPage> PayloadsAsync(ulong[]? ids);

    /// <summary>At the primary: adds a page of the shared training sample and forwards it.</summary>
    [ResponseTimeout("00:05:00")]
    Task<WriteOutcome> StageSampleAsync(RecordPage page, bool reset, long epoch);

    /// <summary>At the primary: rebuilds on the staged sample (same codec everywhere), forwards the rebuild.</summary>
    [ResponseTimeout("00:30:00")]
    Task<WriteOutcome> RetrainAsync(int generation, long epoch);

    /// <summary>At a follower: <see cref="StageSampleAsync"/> as forwarded.</summary>
    [ResponseTimeout("00:05:00")]
    Task<WriteOutcome> ApplyStageSampleAsync(RecordPage page, bool reset, long epoch);

    /// <summary>At a follower: <see cref="RetrainAsync"/> as forwarded.</summary>
    [ResponseTimeout("00:30:00")]
    Task<WriteOutcome> ApplyRetrainAsync(int generation, long epoch);

    /// <summary>
    /// At the primary: pushes the next page of a copy to <paramref name="learner"/> (first the training sample and
    /// its rebuild, then the data, then the final id set). True when the copy is complete.
    /// </summary>
    [ResponseTimeout("00:05:00")]
    Task<bool> CopyStepAsync(string learner, long session, int pageSize);

    /// <summary>At a learner: stores a page of the primary's data.</summary>
    [ResponseTimeout("00:05:00")]
    Task<WriteOutcome> CopyDataAsync(RecordPage page, long session);

    /// <summary>At a learner: deletes whatever the primary does not hold (the sample's foreign ids).</summary>
    [ResponseTimeout("00:05:00")]
    Task<WriteOutcome> FinishCopyAsync(ulong[] keep, long session);

    /// <summary>Adds rows to the shared training sample of compression generation <paramref name="number"/> (held until it is built).</summary>
    [ResponseTimeout("00:05:00")]
    Task StageGenerationSampleAsync(int number, float[] rows, bool reset);

    /// <summary>
    /// Keeps the staged sample beside the copy and starts building generation <paramref name="number"/> from it (or,
    /// with none staged, from the kept one); a generation this copy holds already is left alone unless it failed.
    /// </summary>
    [ResponseTimeout("00:05:00")]
    Task<string?> StartGenerationAsync(int number, string compression, string index);

    /// <summary>Waits for generation <paramref name="number"/> to be built; null when it is, else why not.</summary>
    [AlwaysInterleave, ResponseTimeout("01:00:00")]
    Task<string?> WaitGenerationAsync(int number);

    /// <summary>Rows of the kept training sample of generation <paramref name="number"/>, or null when this copy has none.</summary>
    [AlwaysInterleave, ResponseTimeout("00:05:00")]
    Task<float[]?> ReadGenerationSampleAsync(int number, int dimension, int fromRow, int rows);

    /// <summary>Makes generation <paramref name="number"/> live on this copy (nothing when it is).</summary>
    [ResponseTimeout("00:05:00")]
    Task SetLiveGenerationAsync(int number);

    /// <summary>Drops generation <paramref name="number"/> and its kept sample from this copy.</summary>
    [ResponseTimeout("00:05:00")]
    Task DropGenerationAsync(int number);

    /// <summary>This copy's generations (<c>GenerationInfo[]</c> as JSON).</summary>
    [AlwaysInterleave]
    Task<string> GenerationsJsonAsync();

    /// <summary>This copy's drift report (<c>DriftReport</c> as JSON).</summary>
    [AlwaysInterleave]
    Task<string> DriftJsonAsync();

    /// <summary>The engine's offline canary of <paramref name="generation"/> on this copy (<c>CanaryReport</c> as JSON).</summary>
    [AlwaysInterleave, ResponseTimeout("00:30:00")]
    Task<string> RunCanaryJsonAsync(int generation, ShardQuery query);

    /// <summary>Exposes <paramref name="generation"/> to a share of keyed searches on this copy.</summary>
    [AlwaysInterleave]
    Task SetExposureAsync(int generation, double percent);

    /// <summary>Starts the shadow canary on this copy (<c>CanarySettings</c> as JSON).</summary>
    [AlwaysInterleave]
    Task StartCanaryAsync(string settings);

    /// <summary>Stops the shadow canary on this copy.</summary>
    [AlwaysInterleave]
    Task StopCanaryAsync();

    /// <summary>Sets the lifecycle policy on this copy (<c>LifecyclePolicy</c> as JSON; retention stays the layout's).</summary>
    [AlwaysInterleave]
    Task SetPolicyAsync(string policy);

    /// <summary>
    /// Deletes this silo's local copy of the shard (its data, training sample and generation samples) when, by the
    /// layout read in this turn, <see cref="OrphanedCopy.IsOrphaned"/> holds; returns the bytes freed, 0 when kept.
    /// </summary>
    [ResponseTimeout("00:05:00")]
    Task<long> ReleaseIfOrphanedAsync();

    /// <summary>Training generation and live count, for tests and diagnostics.</summary>
    [AlwaysInterleave]
    Task<(int Generation, int Count, ShardRole Role, long Epoch)> DescribeAsync();
}
