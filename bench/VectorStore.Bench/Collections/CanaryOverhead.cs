using System.Diagnostics;
using System.Globalization;
using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Lifecycle;

namespace VectorStore.Bench.Collections;

/// <summary>
/// Issue 16's canary benchmark on the shared text set: search QPS with a 1 % shadow canary running against the same
/// run without it (rounds interleaved off/on so machine noise hits both alike), and the canary's estimate of the
/// live generation's recall@10 against the offline truth (the set's exact ground truth).
/// Run: <c>dotnet bench/VectorStore.Bench/bin/Release/net10.0/VectorStore.Bench.dll canary-overhead [--rate 0.01]
/// [--rounds 10] [--seconds 3] [--threads 2] [--compression pq:48] [--index ivf:256] [--rerank 40]
/// [--candidate-compression pq:96x4] [--candidate-index ivf:256]</c>
/// </summary>
public static class CanaryOverhead
{
    public static int Run(string[] args)
    {
        string Arg(string name, string fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        int Int(string name, int fallback) => int.Parse(Arg(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        double rate = double.Parse(Arg("--rate", "0.01"), CultureInfo.InvariantCulture);
        int rounds = Int("--rounds", 10), seconds = Int("--seconds", 3), threads = Int("--threads", 2), rerank = Int("--rerank", 40);
        var dir = Dataset.FindShared("debdesc-minilm384-public");
        if (dir is null)
        {
            Console.Error.WriteLine("error: ../shared/data/debdesc-minilm384-public is not present; this benchmark needs the real text set");
            return 2;
        }
        var ds = Dataset.LoadTexmex(dir);
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", new CollectionOptions
        {
            Dimension = ds.Base.Dimension, Metric = Metric.Cosine, Compression = Arg("--compression", "pq:48"), Index = Arg("--index", "ivf:256"),
            TrainingThreshold = ds.Base.Count,
        });
        c.UpsertBatch(Enumerable.Range(0, ds.Base.Count).Select(i => (ulong)i).ToArray(), ds.Base);
        int g = c.BuildGeneration(Arg("--candidate-compression", "pq:96x4"), Arg("--candidate-index", "ivf:256"));
        c.WaitForGeneration(g).GetAwaiter().GetResult();
        var search = new SearchOptions { K = 10, Rerank = rerank };

        // Offline truth: the live generation's recall@10 on the set's queries against exact ground truth.
        var hits = c.SearchBatch(ds.Queries, search);
        double offline = Recall.AtK(hits.Select(h => h.Select(x => (long)x.Id).ToArray()).ToArray(), ds.Truth, 10);
        Console.WriteLine($"# {c.Options.Compression} + {c.Options.Index} (rerank {rerank}) live, candidate {g}: {Arg("--candidate-compression", "pq:96x4")} + {Arg("--candidate-index", "ivf:256")}; " +
            $"{threads} search threads, {rounds} rounds of {seconds} s each way, canary rate {rate:P1}; offline live recall@10 {offline:F4}");
        Console.WriteLine("| round | canary | QPS |");
        Console.WriteLine("|---:|---|---:|");
        double off = 0, on = 0;
        for (int r = 0; r < 2 * rounds; r++)
        {
            bool canary = r % 2 == 1;
            if (canary) c.StartCanary(new CanarySettings { Generation = g, SampleRate = rate, Seed = r });
            double qps = Measure(c, ds.Queries, search, threads, seconds);
            if (canary)
            {
                c.DrainCanary().GetAwaiter().GetResult();
                c.StopCanary();
                on += qps;
            }
            else off += qps;
            Console.WriteLine($"| {r / 2} | {(canary ? "on" : "off")} | {qps:F0} |");
        }
        var report = c.Generations().Single(x => x.Generation == g).Canary!;
        Console.WriteLine();
        Console.WriteLine($"QPS with canary / without: {on / off:F3} (mean {on / rounds:F0} vs {off / rounds:F0})");
        Console.WriteLine($"canary: {report.Queries} queries shadowed, {report.ExactQueries} exact; live recall estimate {report.RecallLive:F4} vs offline {offline:F4} " +
            $"(error {report.RecallLive - offline:+0.0000;-0.0000}); candidate {report.RecallCandidate:F4}; overlap {report.Overlap:F4}; " +
            $"p50/p99 live {report.LiveP50Ms:F2}/{report.LiveP99Ms:F2} ms, candidate {report.CandidateP50Ms:F2}/{report.CandidateP99Ms:F2} ms");
        // A switch either way is one durable log record: time both on this set (no retraining).
        var t = Stopwatch.StartNew();
        c.Promote(g);
        double promoteMs = t.Elapsed.TotalMilliseconds;
        t.Restart();
        int back = c.Rollback();
        Console.WriteLine($"promote to {g}: {promoteMs:F1} ms; rollback to {back}: {t.Elapsed.TotalMilliseconds:F1} ms ({ds.Base.Count} vectors, in memory)");
        return 0;
    }

    private static double Measure(Collection c, VectorMatrix queries, SearchOptions options, int threads, int seconds)
    {
        long done = 0;
        var until = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(t => Task.Factory.StartNew(() =>
        {
            int q = t * 97;
            long n = 0;
            while (until.Elapsed.TotalSeconds < seconds)
            {
                c.Search(queries.Row(q++ % queries.Count), options);
                n++;
            }
            Interlocked.Add(ref done, n);
        }, TaskCreationOptions.LongRunning)).ToArray();
        Task.WaitAll(workers);
        return done / until.Elapsed.TotalSeconds;
    }
}
