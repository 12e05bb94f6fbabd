using System.Diagnostics;
using System.Globalization;
using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Filtering;
using VectorStore.Lifecycle;

namespace VectorStore.Bench.Collections;

/// <summary>
/// Issue 16's end-to-end drift scenario: a collection trained on the text set's synopses serves queries on one
/// thread while the paragraphs stream in on another, with the whole ladder enabled (rebalance → candidate trained
/// on the data as it now is → 1 % shadow canary segmented by package prefix → gated promotion). Reports when the
/// sensors fired against recall@10 (offline, exact truth over the current contents), what the ladder did, the
/// canary's worst segment, the final recall against a fresh build on all the data, and the search latency p99 per
/// second around the switch (no search may fail).
/// Run: <c>dotnet bench/VectorStore.Bench/bin/Release/net10.0/VectorStore.Bench.dll lifecycle-drift [--compression pq:48]
/// [--index ivf:256] [--rerank 40] [--canary 0.01] [--batch 500] [--pause-ms 50] [--max 29409]</c>
/// </summary>
public static class LifecycleDrift
{
    public static int Run(string[] args)
    {
        var flags = new BenchArgs(args);
        string Arg(string name, string fallback) => flags.Get(name, fallback);
        int Int(string name, int fallback) => flags.Int(name, fallback);
        string compression = Arg("--compression", "pq:48"), index = Arg("--index", "ivf:256");
        int rerank = Int("--rerank", 40), batch = Int("--batch", 500), pause = Int("--pause-ms", 50);
        double canaryRate = double.Parse(Arg("--canary", "0.01"), CultureInfo.InvariantCulture);
        var dir = Dataset.FindShared("debdesc-minilm384-public");
        if (dir is null)
        {
            Console.Error.WriteLine("error: ../shared/data/debdesc-minilm384-public is not present; this benchmark needs the real text set");
            return 2;
        }
        var ds = Dataset.LoadTexmex(dir);
        var rows = File.ReadLines(Path.Combine(dir, "debdesc-minilm384-public_base_texts.tsv")).Skip(1).Select(l => l.Split('\t', 5)).ToArray();
        string Group(int i)
        {
            string p = rows[i][3];
            foreach (var prefix in new[] { "lib", "python3-", "golang-", "r-cran-", "node-", "ruby-", "php-", "fonts-", "texlive-", "librust-" })
                if (p.StartsWith(prefix, StringComparison.Ordinal)) return prefix;
            return "other";
        }
        var synopses = Enumerable.Range(0, rows.Length).Where(i => rows[i][2] == "synopsis").ToArray();
        var paragraphs = Enumerable.Range(0, rows.Length).Where(i => rows[i][2] == "para").ToArray();
        int max = Math.Min(Int("--max", paragraphs.Length), paragraphs.Length);
        var options = new CollectionOptions
        {
            Dimension = ds.Base.Dimension, Metric = Metric.Cosine, Compression = compression, Index = index, TrainingThreshold = synopses.Length,
            Fields = [new FieldDefinition("group", FieldType.Keyword)],
        };
        IReadOnlyDictionary<string, FieldValue>?[] FieldsOf(int[] r) =>
            r.Select(i => (IReadOnlyDictionary<string, FieldValue>?)new Dictionary<string, FieldValue> { ["group"] = FieldValue.Keyword(Group(i)) }).ToArray();

        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("drift", options);
        var clock = Stopwatch.StartNew();
        c.UpsertBatch(synopses.Select(i => (ulong)i).ToArray(), ds.Base.Select(synopses), null, FieldsOf(synopses));
        Console.WriteLine($"# {compression} + {index}, rerank {rerank}; trained on {synopses.Length} synopses in {clock.Elapsed.TotalSeconds:F1} s; " +
            $"streaming {max} paragraphs in batches of {batch}; ladder on, canary {canaryRate:P1} segmented by package prefix");
        c.Policy = new LifecyclePolicy
        {
            RebalanceOnDrift = true, BuildCandidateOnDrift = true, PromoteWhenGatePasses = true, CanaryRate = canaryRate,
            Gate = new PromotionGate { MinExactQueries = 200, MaxRecallLoss = 0.01, MaxP99Factor = 2 },
        };
        var search = new SearchOptions { K = 10, Rerank = rerank };
        var contents = new List<int>(synopses);
        double start = DriftCurve.Recall(c, ds, contents, search);

        // The query load: one thread, the text set's queries in a loop; latency per query with its time.
        var latencies = new List<(double At, double Ms, int Generation)>();
        int failures = 0;
        using var stop = new CancellationTokenSource();
        var load = Task.Run(() =>
        {
            int q = 0;
            while (!stop.IsCancellationRequested)
            {
                long t = Stopwatch.GetTimestamp();
                try
                {
                    var hits = c.Search(ds.Queries.Row(q++ % ds.Queries.Count), search);
                    double ms = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
                    lock (latencies) latencies.Add((clock.Elapsed.TotalSeconds, ms, hits.Length > 0 ? hits[0].Generation : 0));
                }
                catch (Exception e)
                {
                    Interlocked.Increment(ref failures);
                    Console.Error.WriteLine($"search failed: {e.Message}");
                }
            }
        });

        Console.WriteLine("| paragraphs inserted | recall@10 | Δ | drifted | live generation |");
        Console.WriteLine("|---:|---:|---:|---|---:|");
        Console.WriteLine($"| 0 | {start:F4} | 0 | no | {c.LiveGeneration} |");
        long firstDrift = -1;
        double firstDriftRecall = double.NaN;
        int nextRecall = 5000;
        for (int done = 0; done < max;)
        {
            int n = Math.Min(batch, max - done);
            var part = paragraphs.AsSpan(done, n).ToArray();
            c.UpsertBatch(part.Select(i => (ulong)i).ToArray(), ds.Base.Select(part), null, FieldsOf(part));
            contents.AddRange(part);
            done += n;
            var report = c.Drift();
            if (firstDrift < 0 && report.Drifted)
            {
                firstDrift = done;
                firstDriftRecall = DriftCurve.Recall(c, ds, contents, search);
                Console.WriteLine($"| {done} | {firstDriftRecall:F4} | {firstDriftRecall - start:+0.0000;-0.0000} | first signal: {string.Join(", ", report.Signals.Where(s => s.Fired).Select(s => s.Name))} | {c.LiveGeneration} |");
            }
            if (done >= nextRecall || done == max)
            {
                nextRecall += 5000;
                double r = DriftCurve.Recall(c, ds, contents, search);
                Console.WriteLine($"| {done} | {r:F4} | {r - start:+0.0000;-0.0000} | {(report.Drifted ? "yes" : "no")} | {c.LiveGeneration} |");
            }
            if (pause > 0) Thread.Sleep(pause);
        }
        // Let the ladder finish: the candidate's build, its canary and the gated promotion.
        var deadline = Stopwatch.StartNew();
        while (c.LiveGeneration == 1 && deadline.Elapsed < TimeSpan.FromMinutes(5)) Thread.Sleep(200);
        double promotedAt = clock.Elapsed.TotalSeconds;
        Thread.Sleep(3000);
        stop.Cancel();
        load.Wait();
        double final = DriftCurve.Recall(c, ds, contents, search);
        var generations = c.Generations();
        var candidate = generations.LastOrDefault(g => g.Generation != 1 && g.Canary is not null) ?? generations.Last();

        using var freshDb = VectorDatabase.CreateInMemory();
        var fresh = freshDb.CreateCollection("fresh", options with { TrainingThreshold = contents.Count });
        var all = contents.ToArray();
        fresh.UpsertBatch(all.Select(i => (ulong)i).ToArray(), ds.Base.Select(all), null, FieldsOf(all));
        double freshRecall = DriftCurve.Recall(fresh, ds, contents, search);

        Console.WriteLine();
        Console.WriteLine("ladder actions:");
        foreach (var a in c.Drift().Actions) Console.WriteLine("  " + a);
        Console.WriteLine("generations: " + string.Join("; ", generations.Select(g => $"{g.Generation} {g.State} {g.Compression}+{g.Index}")));
        if (candidate.Canary is { } canary)
        {
            Console.WriteLine($"canary of generation {canary.Generation}: {canary.Queries} queries ({canary.ExactQueries} exact), recall live {canary.RecallLive:F4}, candidate {canary.RecallCandidate:F4}, overlap {canary.Overlap:F4}, " +
                $"p99 live {canary.LiveP99Ms:F2} ms, candidate {canary.CandidateP99Ms:F2} ms");
            if (canary.WorstSegment is { } worst)
                Console.WriteLine($"worst segment: {worst.Segment} ({worst.Queries} true neighbours): candidate recall {worst.RecallCandidate:F4}, live {worst.RecallLive:F4}");
        }
        // Per segment: the previous generation against the live one on the query set, neighbours grouped by package prefix.
        if (generations.FirstOrDefault(g => g.State != GenerationState.Live && g.Ready) is { } previous)
        {
            var bySegment = c.RunCanary(previous.Generation, ds.Queries, search, "group");
            Console.WriteLine($"offline canary, generation {previous.Generation} vs live {bySegment.LiveGeneration} by package prefix of the true neighbours " +
                $"(recall {bySegment.RecallCandidate:F4} vs {bySegment.RecallLive:F4}): " +
                string.Join("; ", bySegment.Segments.Where(x => !x.Segment.StartsWith("query:", StringComparison.Ordinal)).Take(4)
                    .Select(x => $"{x.Segment} ({x.Queries}) {x.RecallCandidate:F4} vs {x.RecallLive:F4}")));
            if (bySegment.WorstSegment is { } w)
                Console.WriteLine($"worst segment for generation {previous.Generation}: {w.Segment}, recall {w.RecallCandidate:F4} (live generation: {w.RecallLive:F4})");
        }
        Console.WriteLine($"first drift signal after {firstDrift} paragraphs; recall then {firstDriftRecall:F4} (start {start:F4}, drop {start - firstDriftRecall:F4})");
        Console.WriteLine($"final recall@10 {final:F4} (live generation {c.LiveGeneration}); fresh build on all {contents.Count} vectors {freshRecall:F4}; difference {final - freshRecall:+0.0000;-0.0000}");
        // p99 per one-second window: the worst, and the window of the switch.
        var windows = latencies.GroupBy(l => (int)l.At).Select(g => (Second: g.Key, P99: CanaryRecorder.Percentile(g.Select(x => x.Ms).ToArray(), g.Count(), 0.99), N: g.Count())).OrderBy(w => w.Second).ToArray();
        var switched = latencies.FirstOrDefault(l => l.Generation > 1);
        double baseline = BenchStats.Median(windows.Select(w => w.P99));
        var worstWindow = windows.MaxBy(w => w.P99);
        Console.WriteLine($"searches: {latencies.Count}, failed: {failures}; p99 per second: median {baseline:F2} ms, worst {worstWindow.P99:F2} ms (second {worstWindow.Second}, {worstWindow.N} queries)" +
            (switched.Generation > 1 ? $"; first query served by generation {switched.Generation} at {switched.At:F1} s, p99 of that second {windows.FirstOrDefault(w => w.Second == (int)switched.At).P99:F2} ms" : "; no switch happened"));
        return failures == 0 ? 0 : 1;
    }
}
