using VectorStore.Lifecycle;

namespace VectorStore.Cluster;

/// <summary>
/// One collection-wide figure from the shards' own: each shard answers a query over its part of the data, so a
/// shard's canary recall is its own top k against its own exact top k. Within a shard the figures of its copies add
/// up (each served some of the shard's queries); across shards counts take the smallest shard's (every shard saw
/// every query) and recalls their mean weighted by queries, latencies the slowest shard's (a merged answer waits for
/// it), index bytes their sum.
/// </summary>
/// <remarks>Thread-safety: stateless.</remarks>
internal static class GenerationAggregate
{
    /// <summary>
    /// The collection-wide canary report, or null when no copy has figures. A shard none of whose copies has figures
    /// counts as having answered no query (so a gate judges every shard, never only those that were canaried).
    /// </summary>
    public static CanaryReport? Canary(IEnumerable<(int Shard, CanaryReport? Report)> copies, int generation, int live)
    {
        var all = copies.ToArray();
        var shards = all.Where(c => c.Report is not null).GroupBy(c => c.Shard, c => c.Report!).Select(Within).ToArray();
        if (shards.Length == 0) return null;
        bool everyShard = shards.Length == all.Select(c => c.Shard).Distinct().Count();
        return Combine(shards, everyShard ? shards.Min(r => r.Queries) : 0, everyShard ? shards.Min(r => r.ExactQueries) : 0) with
        {
            Generation = generation,
            LiveGeneration = live,
            K = shards.Max(r => r.K),
            CandidateIndexBytes = shards.Sum(r => r.CandidateIndexBytes),
            LiveIndexBytes = shards.Sum(r => r.LiveIndexBytes),
        };
    }

    /// <summary>The figures of one shard's copies together (they hold the same data: its index bytes once).</summary>
    private static CanaryReport Within(IEnumerable<CanaryReport> copies)
    {
        var r = copies.ToArray();
        return r.Length == 1 ? r[0] : Combine(r, r.Sum(x => x.Queries), r.Sum(x => x.ExactQueries));
    }

    /// <summary>
    /// The first report with the given counts and the reports' recalls and overlap (weighted means), latencies (the
    /// slowest) and segments combined: what shards and a shard's copies combine alike.
    /// </summary>
    private static CanaryReport Combine(CanaryReport[] r, int queries, int exactQueries) => r[0] with
    {
        Queries = queries,
        ExactQueries = exactQueries,
        RecallLive = Mean(r, x => x.RecallLive, x => x.ExactQueries),
        RecallCandidate = Mean(r, x => x.RecallCandidate, x => x.ExactQueries),
        Overlap = Mean(r, x => x.Overlap, x => x.Queries),
        LiveP50Ms = r.Max(x => x.LiveP50Ms),
        LiveP99Ms = r.Max(x => x.LiveP99Ms),
        CandidateP50Ms = r.Max(x => x.CandidateP50Ms),
        CandidateP99Ms = r.Max(x => x.CandidateP99Ms),
        Segments = Segments(r.SelectMany(x => x.Segments)),
    };

    private static SegmentRecall[] Segments(IEnumerable<SegmentRecall> all) =>
        all.GroupBy(s => s.Segment)
            .Select(g => new SegmentRecall(g.Key, g.Sum(s => s.Queries), Mean(g, s => s.RecallLive, s => s.Queries), Mean(g, s => s.RecallCandidate, s => s.Queries)))
            .OrderBy(s => s.RecallCandidate).ThenBy(s => s.Segment, StringComparer.Ordinal)
            .ToArray();

    private static double Mean<T>(IEnumerable<T> items, Func<T, double> value, Func<T, int> weight)
    {
        double sum = 0;
        long total = 0;
        foreach (var x in items)
        {
            int w = weight(x);
            if (w == 0) continue; // a copy with no queries reports NaN figures; they carry no weight
            sum += value(x) * w;
            total += w;
        }
        // No weight at all (no exact query yet): not known, as a single node reports it, rather than a recall of 0.
        return total == 0 ? double.NaN : sum / total;
    }

    /// <summary>
    /// One generation's collection-wide entry from the layout's record and every in-sync copy's (null where a copy
    /// lacks it or did not answer): ready only when every copy is (what a promotion needs), progress the slowest
    /// copy's, the first error named by copy, sizes summed over one copy per shard (the data once), canary figures
    /// combined as <see cref="Canary"/> does (the promotion gate's view).
    /// </summary>
    public static GenerationInfo Info(Layout.ClusterGeneration g, (int Shard, string Copy, GenerationInfo? Info)[] copies, int live)
    {
        var held = copies.Where(c => c.Info is not null).Select(c => c.Info!).ToArray();
        var error = copies.FirstOrDefault(c => c.Info?.Error is not null);
        var perShard = copies.Where(c => c.Info is not null).GroupBy(c => c.Shard).Select(s => s.First().Info!).ToArray();
        return new GenerationInfo
        {
            Generation = g.Number,
            State = g.Kind,
            Compression = g.Compression,
            Index = g.Index,
            Ready = held.Length == copies.Length && held.All(i => i.Ready),
            Progress = held.Length < copies.Length ? 0 : held.Min(i => i.Progress),
            Error = error.Info is null ? null : $"{error.Copy}: {error.Info.Error}",
            CodeSize = held.Length == 0 ? 0 : held.Max(i => i.CodeSize),
            IndexBytes = perShard.Sum(i => i.IndexBytes),
            ExposurePercent = held.Length == 0 ? 0 : held.Min(i => i.ExposurePercent),
            Canary = Canary(copies.Select(c => (c.Shard, c.Info?.Canary)), g.Number, live),
        };
    }

    /// <summary>The shards' drift sensors side by side (each signal and action named by its shard).</summary>
    public static DriftReport Drift(int live, (int Shard, DriftReport Report)[] shards)
    {
        var without = shards.FirstOrDefault(s => s.Report.Sensors == false);
        return new DriftReport
        {
            Generation = live,
            Sensors = shards.Any(s => s.Report.Sensors is null) ? null : shards.All(s => s.Report.Sensors == true),
            NoSensorsReason = without.Report is null ? null : $"shard {without.Shard}: {without.Report.NoSensorsReason}",
            Observed = shards.Sum(s => s.Report.Observed),
            Signals = shards.SelectMany(s => s.Report.Signals.Select(x => x with { Name = $"shard {s.Shard}: {x.Name}" })).ToArray(),
            Actions = shards.SelectMany(s => s.Report.Actions.Select(a => $"shard {s.Shard}: {a}")).ToArray(),
        };
    }
}
