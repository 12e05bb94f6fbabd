using System.Diagnostics;
using System.Globalization;
using VectorStore.Collections;
using VectorStore.Drift;
using VectorStore.Evaluation;
using VectorStore.Lifecycle;
using VectorStore.Ranking;

namespace VectorStore.Bench.Collections;

/// <summary>
/// The drift scenario of issue 16 on the shared text set: a collection trained on package synopses receives a stream
/// of paragraphs (or, as the control, of held-out synopses). After every insert batch the drift monitor observes it;
/// the first stream position at which each sensor fires is recorded, and at every checkpoint the collection's
/// recall@10 (its own search with re-rank, against exact search over its current contents) is measured, so the two
/// curves can be read side by side. Also times <see cref="DriftMonitor.Observe"/> against the upserts it follows.
/// Run: <c>dotnet run -c Release --project bench/VectorStore.Bench -- drift-curve [--stream para|synopsis]
/// [--train 10000] [--max 8000] [--batch 50] [--step 500] [--compression pq:48] [--index ivf:256] [--rerank 40]
/// [--sample-rate 0.25] [--queries text|para]</c>
/// </summary>
public static class DriftCurve
{
    public static int Run(string[] args)
    {
        string Arg(string name, string fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        int Int(string name, int fallback) => int.Parse(Arg(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        string stream = Arg("--stream", "para");
        int train = Int("--train", 10_000), max = Int("--max", 8_000), batch = Int("--batch", 50), step = Int("--step", 500), rerank = Int("--rerank", 40);
        string compression = Arg("--compression", "pq:48"), index = Arg("--index", "ivf:256");
        var settings = new DriftSettings { SampleRate = double.Parse(Arg("--sample-rate", "0.25"), CultureInfo.InvariantCulture) };

        var dir = Dataset.FindShared("debdesc-minilm384-public");
        if (dir is null)
        {
            Console.Error.WriteLine("error: ../shared/data/debdesc-minilm384-public is not present; this benchmark needs the real text set");
            return 2;
        }
        var ds = Dataset.LoadTexmex(dir);
        var kinds = File.ReadLines(Path.Combine(dir, "debdesc-minilm384-public_base_texts.tsv")).Skip(1).Select(l => l.Split('\t', 4)[2]).ToArray();
        var synopses = Enumerable.Range(0, kinds.Length).Where(i => kinds[i] == "synopsis").ToArray();
        var paragraphs = Enumerable.Range(0, kinds.Length).Where(i => kinds[i] == "para").ToArray();
        var streamRows = stream == "para" ? paragraphs : synopses[train..];
        // --queries para: 500 paragraphs that are never inserted serve as queries (searches from the new distribution).
        var queries = ds.Queries;
        if (Arg("--queries", "text") == "para")
        {
            queries = ds.Base.Select(paragraphs.AsSpan(paragraphs.Length - 500));
            if (stream == "para") streamRows = paragraphs[..^500];
        }
        ds = ds with { Queries = queries };
        max = Math.Min(max, streamRows.Length);

        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("drift", new CollectionOptions
        {
            Dimension = ds.Base.Dimension, Metric = Metric.Cosine, Compression = compression, Index = index, TrainingThreshold = train,
        });
        var contents = new List<int>(synopses[..train]);
        var trainIds = contents.Select(i => (ulong)i).ToArray();
        var training = ds.Base.Select(synopses.AsSpan(0, train));
        c.UpsertBatch(trainIds, training);
        var built = c.Index ?? throw new InvalidOperationException($"the collection did not train: {c.TrainingError}");
        var sw = Stopwatch.StartNew();
        var monitor = DriftMonitor.Create(built, training, DistanceKind.NegativeDot, settings, seed: 1);
        Console.WriteLine($"# {compression} + {index}, rerank {rerank}; queries: {Arg("--queries", "text")}; trained on {train} synopses; monitor created in {sw.ElapsedMilliseconds} ms " +
            $"({monitor.MemoryBytes / 1024} KiB); stream: {stream}, batches of {batch}; sample rate {settings.SampleRate}");

        var search = new SearchOptions { K = 10, Rerank = rerank };
        double start = Recall(c, ds, contents, search);
        Console.WriteLine($"| {stream} inserted | recall@10 | Δ recall | signals fired (value/threshold) |");
        Console.WriteLine("|---:|---:|---:|---|");
        Console.WriteLine($"| 0 | {start:F4} | 0 | — |");
        var firstFired = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long upsertTicks = 0, observeTicks = 0;
        for (int done = 0; done < max;)
        {
            int n = Math.Min(batch, max - done);
            var rows = streamRows.AsSpan(done, n);
            var vectors = ds.Base.Select(rows);
            long t0 = Stopwatch.GetTimestamp();
            c.UpsertBatch(rows.ToArray().Select(i => (ulong)i).ToArray(), vectors);
            long t1 = Stopwatch.GetTimestamp();
            monitor.Observe(vectors);
            long t2 = Stopwatch.GetTimestamp();
            upsertTicks += t1 - t0;
            observeTicks += t2 - t1;
            contents.AddRange(rows.ToArray());
            done += n;
            // Let a test the batch started finish, so the table does not depend on thread timing.
            monitor.BackgroundTests.GetAwaiter().GetResult();
            var report = monitor.Report(1);
            foreach (var s in report.Signals.Where(s => s.Fired)) firstFired.TryAdd(s.Name, done);
            if (done % step == 0 || done == max)
            {
                double r = Recall(c, ds, contents, search);
                Console.WriteLine($"| {done} | {r:F4} | {r - start:+0.0000;-0.0000} | {Fired(report)} |");
            }
        }
        Console.WriteLine();
        Console.WriteLine("final report: " + string.Join(", ", monitor.Report(1).Signals.Select(s => $"{s.Name} {s.Value:G4}/{s.Threshold:G4} (baseline {s.Baseline:G4})")));
        Console.WriteLine("first fired at (stream vectors): " + (firstFired.Count == 0 ? "none" : string.Join(", ", firstFired.Select(kv => $"{kv.Key} {kv.Value}"))));
        var runs = new double[3];
        for (int i = 0; i < runs.Length; i++)
        {
            long t = Stopwatch.GetTimestamp();
            monitor.RunPeriodicTests();
            runs[i] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
        }
        Array.Sort(runs);
        Console.WriteLine($"periodic tests (mean shift + MMD, {settings.TestSampleSize}+{settings.TestSampleSize} vectors, {settings.Permutations} permutations): median {runs[1]:F0} ms of 3; report: {Time(() => monitor.Report(1)):F2} ms");
        Console.WriteLine($"Observe / UpsertBatch time: {(double)observeTicks / upsertTicks:F3} ({observeTicks * 1000.0 / Stopwatch.Frequency:F0} ms vs {upsertTicks * 1000.0 / Stopwatch.Frequency:F0} ms)");
        return 0;
    }

    private static double Time(Action action)
    {
        long t = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(t).TotalMilliseconds;
    }

    private static string Fired(DriftReport report)
    {
        var fired = report.Signals.Where(s => s.Fired).Select(s => $"{s.Name} {s.Value:G3}/{s.Threshold:G3}").ToArray();
        return fired.Length == 0 ? "—" : string.Join(", ", fired);
    }

    /// <summary>recall@10 of the collection's search against exact search over <paramref name="contents"/> (base rows).</summary>
    internal static double Recall(Collection c, Dataset ds, List<int> contents, SearchOptions options)
    {
        var matrix = ds.Base.Select(contents.ToArray());
        var truth = GroundTruth.Compute(matrix, ds.Queries, 10, DistanceKind.NegativeDot);
        var hits = c.SearchBatch(ds.Queries, options);
        double found = 0;
        for (int q = 0; q < truth.Length; q++)
        {
            var want = truth[q].Select(i => (ulong)contents[i]).ToHashSet();
            found += hits[q].Count(h => want.Contains(h.Id));
        }
        return found / (10.0 * truth.Length);
    }
}
