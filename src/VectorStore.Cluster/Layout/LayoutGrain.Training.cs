using VectorStore.Cluster.Shards;

namespace VectorStore.Cluster.Layout;

/// <summary>
/// Cluster-wide training: one seeded sample drawn from every shard in proportion to its size, staged on every copy
/// of every shard in the same order, then each copy rebuilds on it (see <c>ShardReplicaGrain</c>). A collection whose
/// codec and index train nothing shared (<see cref="CollectionSpec.TrainsInPlace"/>) skips the sample: each copy
/// builds its index in place.
/// </summary>
internal sealed partial class LayoutGrain
{
    /// <summary>Smallest shared sample when a shard is smaller than this (the engine's codebooks need 256 points).</summary>
    private const int MinimumSample = 1024;

    public async Task TrainAsync(bool force)
    {
        await _gate.WaitAsync();
        try
        {
            var layout = Current ?? throw new InvalidArgumentException($"collection '{this.GetPrimaryKeyString()}' does not exist");
            if (!force && layout.TrainingGeneration > 0) return;
            if (layout.Generations.Length > 0)
                throw new InvalidArgumentException($"collection '{layout.Collection}' has compression generations: retrain by building a new generation (scheme build) and promoting it");
            var primaries = layout.Shards.Select(p => Replica(layout, p.Shard, p.Primary)).ToArray();
            var counts = await Task.WhenAll(primaries.Select(p => p.CountAsync()));
            long total = counts.Sum(c => (long)c);
            if (!force && total < layout.Spec.TrainingThreshold) return;
            if (total == 0) throw new InvalidArgumentException($"collection '{layout.Collection}' has no vectors to train on");
            if (!layout.Spec.TrainsInPlace) await StageSampleAsync(layout, primaries, counts, total);
            int generation = layout.TrainingGeneration + 1;
            var rebuilt = await Task.WhenAll(layout.Shards.Select((p, t) => primaries[t].RetrainAsync(generation, p.Epoch)));
            Require(rebuilt, "retraining");
            await CommitAsync(LayoutPlanner.WithTraining(Current!, generation));
        }
        finally { _gate.Release(); }
    }

    /// <summary>Draws the shared sample and stages it, in one order, on every copy of every shard.</summary>
    private Task StageSampleAsync(ClusterLayout layout, IShardReplicaGrain[] primaries, int[] counts, long total) =>
        DrawSampleAsync(layout, primaries, counts, total, layout.Spec.Seed, async (page, reset) =>
        {
            var staged = await Task.WhenAll(layout.Shards.Select((p, t) => primaries[t].StageSampleAsync(page, reset, p.Epoch)));
            Require(staged, "staging the training sample");
        });

    /// <summary>
    /// Draws a seeded sample from every shard in proportion to its size and hands it to <paramref name="stage"/> page
    /// by page, in one order (the first page with reset).
    /// </summary>
    private async Task DrawSampleAsync(ClusterLayout layout, IShardReplicaGrain[] primaries, int[] counts, long total, int seed, Func<RecordPage, bool, Task> stage)
    {
        // Each copy places the sample under its own ids (ShardReplicaGrain.Rebuild), so a sample no larger than the
        // smallest shard costs no deletes; a tiny or empty shard still gets a sample big enough to train codebooks.
        long size = Math.Min(Math.Min(layout.Spec.MaxTrainingSample, total), Math.Max(counts.Min(), MinimumSample));
        var samples = await Task.WhenAll(primaries.Select((p, s) =>
            p.SampleIdsAsync(size >= total ? counts[s] : (int)(size * counts[s] / total), seed + s)));
        int pageSize = options.Value.CopyPageSize;
        bool first = true;
        for (int s = 0; s < samples.Length; s++)
        {
            for (int i = 0; i < samples[s].Length; i += pageSize)
            {
                var page = await primaries[s].GetAsync(samples[s].AsSpan(i, Math.Min(pageSize, samples[s].Length - i)).ToArray());
                await stage(page, first);
                first = false;
            }
        }
    }

    private static void Require(WriteOutcome[] outcomes, string what)
    {
        var bad = outcomes.Select((o, s) => (o, s)).Where(t => t.o.Status != WriteStatus.Ok).ToArray();
        if (bad.Length > 0)
            throw new ClusterUnavailableException($"{what} failed on shard(s) {string.Join(", ", bad.Select(b => $"{b.s} ({b.o.Status}: {b.o.Detail})"))}; retry once the layout has healed");
    }
}
