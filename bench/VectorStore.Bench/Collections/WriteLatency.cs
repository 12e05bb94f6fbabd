using System.Diagnostics;
using VectorStore.Collections;
using VectorStore.Evaluation;

namespace VectorStore.Bench.Collections;

/// <summary>
/// How long a write waits while the collection is busy (issue 21's tuning, the engine's parallel loops): on the shared
/// text set in memory, one thread upserts small batches at a steady pace for a few seconds (1) with nothing else
/// running, the baseline of the same run; (2) while <c>TuneSearchOnQueries</c> tunes on the set's queries; (3) while
/// pool tasks search in a loop (as a server's connections do). Prints each phase's median, p99 and max batch latency,
/// and the ratios to the baseline. Not a BenchmarkDotNet suite: it measures a latency distribution under contention.
/// Run: <c>dotnet bench/VectorStore.Bench/bin/Release/net10.0/VectorStore.Bench.dll write-latency [--compression pq:96x4]
/// [--index ivf:256] [--rounds 3] [--seconds 3] [--batch 8] [--pause-ms 2] [--searchers 8] [--target 0.99] [--tune-queries 200]</c>
/// </summary>
public static class WriteLatency
{
    public static int Run(string[] args)
    {
        var a = VectorStore.Bench.BenchArgs.Parse(args);
        var dir = Dataset.FindShared("debdesc-minilm384-public");
        if (dir is null)
        {
            Console.Error.WriteLine("error: ../shared/data/debdesc-minilm384-public is not present; this benchmark needs the real text set");
            return 2;
        }
        var ds = Dataset.LoadTexmex(dir);
        int rounds = a.Int("rounds", 3), seconds = a.Int("seconds", 3), batch = a.Int("batch", 8), pause = a.Int("pause-ms", 2), searchers = a.Int("searchers", 8);
        double target = a.Double("target", 0.99);
        var tuneQueries = ds.Queries.Slice(0, Math.Min(a.Int("tune-queries", 200), ds.Queries.Count));
        // The last thousand rows are the ones re-written; the rest stay put.
        int fixedRows = ds.Base.Count - 1000;
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", new CollectionOptions
        {
            Dimension = ds.Base.Dimension, Metric = Metric.Cosine, Compression = a.Str("compression", "pq:96x4"), Index = a.Str("index", "ivf:256"),
            TrainingThreshold = 10_000,
        });
        c.UpsertBatch(Enumerable.Range(0, ds.Base.Count).Select(i => (ulong)i).ToArray(), ds.Base);
        Console.WriteLine($"# {c.Options.Compression} + {c.Options.Index}, {ds.Base.Count:N0} vectors in memory; batches of {batch} every {pause} ms for {seconds} s; " +
            $"{rounds} rounds; tuning for {target} on {tuneQueries.Count} queries; {searchers} searching pool tasks");
        Console.WriteLine("| round | phase | batches | median ms | p99 ms | max ms | max / baseline max |");
        Console.WriteLine("|---:|---|---:|---:|---:|---:|---:|");
        for (int r = 0; r < rounds; r++)
        {
            var idle = Writes(c, ds.Base, fixedRows, batch, pause, () => Task.Delay(TimeSpan.FromSeconds(seconds)));
            Print(r, "nothing else running", idle, idle);
            // A new target each round, so each round tunes afresh.
            var tuning = Writes(c, ds.Base, fixedRows, batch, pause, () => Task.Run(() => c.TuneSearchOnQueries(target - 0.001 * r, tuneQueries)));
            Print(r, "during a tuning", tuning, idle);
            var searching = Writes(c, ds.Base, fixedRows, batch, pause, () => Searching(c, ds.Queries, searchers, seconds));
            Print(r, $"{searchers} searching tasks", searching, idle);
        }
        return 0;
    }

    /// <summary>Batch latencies (ms, sorted) of upserts issued every <paramref name="pause"/> ms until <paramref name="load"/>'s task ends.</summary>
    private static double[] Writes(Collection c, VectorMatrix data, int fixedRows, int batch, int pause, Func<Task> load)
    {
        var running = load();
        var lat = new List<double>();
        int row = fixedRows;
        while (!running.IsCompleted)
        {
            if (row + batch > data.Count) row = fixedRows;
            var ids = Enumerable.Range(row, batch).Select(i => (ulong)i).ToArray();
            long t0 = Stopwatch.GetTimestamp();
            c.UpsertBatch(ids, data.Slice(row, batch));
            lat.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            row += batch;
            Thread.Sleep(pause);
        }
        running.GetAwaiter().GetResult();
        lat.Sort();
        return lat.Count == 0 ? [0] : lat.ToArray();
    }

    private static async Task Searching(Collection c, VectorMatrix queries, int searchers, int seconds)
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var options = new SearchOptions { K = 10, Rerank = 40 };
        await Task.WhenAll(Enumerable.Range(0, searchers).Select(t => Task.Run(() =>
        {
            for (int i = t; !stop.IsCancellationRequested; i++) c.Search(queries.Row(i % queries.Count), options);
        })));
    }

    private static void Print(int round, string phase, double[] lat, double[] baseline) =>
        Console.WriteLine($"| {round} | {phase} | {lat.Length} | {lat[lat.Length / 2]:F2} | {lat[(int)(lat.Length * 0.99)]:F1} | {lat[^1]:F1} | {lat[^1] / Math.Max(baseline[^1], 1e-3):F1}× |");
}
