using System.Diagnostics;
using System.Text.Json;
using VectorStore.Client;
using VectorStore.Collections;
using VectorStore.Bench.Memory;
using VectorStore.Evaluation;

namespace VectorStore.Bench.Cluster;

/// <summary>
/// Scale-out with separate silo processes on 127.0.0.1 (each <c>vectorstore silo</c>, pinned to its own core with
/// <c>taskset</c> when there are enough cores): the same data and queries on 1 silo and on 2, through the silos' TCP
/// listeners with the unchanged thin client.
/// <c>dotnet run -c Release --project bench/VectorStore.Bench -- cluster-scale [--count 40000] [--dim 128]
/// [--queries 2000] [--concurrency 8] [--k 10] [--compression none] [--warmup-seconds 5] [--max-warmup-seconds 120]
/// [--shards N] [--cap-mib ONE,EACH] [--no-pin] [--dry]</c>. Prints one JSON line: ingest vectors/s and search QPS per silo count and their
/// 2-vs-1 ratios, the silos' CPU per query (summed over silos) under the throughput load and one query at a time,
/// anonymous resident memory per silo and the part of it above the same silo idle, and the cost of the
/// coordinator plus TCP per query (single-query latency through 1 silo minus the same search embedded in process).
/// With <c>--cap-mib ONE,EACH</c> every silo runs in its own cgroup v1 memory group (root), limited to ONE MiB in the
/// one-silo run and EACH MiB per silo in the two-silo run: the memory claim shown under a real cap, with each group's
/// peak usage (anonymous memory plus the page cache of its own files) and how often it hit the limit. A run that
/// runs out of memory under its cap (.NET limits its heap to 75 % of the group's limit; below about 180 MiB the
/// kernel's OOM killer may end a silo first) prints one JSON line with <c>failed</c> and <c>oom_kills</c> and exits 3.
/// </summary>
/// <remarks>
/// Each collection has one copy (R = 1): the ratio measures spreading the work, not replication. By default it has 2
/// shards per silo (2, then 4: the best layout for each silo count); <c>--shards N</c> keeps one layout for both
/// runs, the same collection on twice the silos, so every per-shard cost (a shard copy's collection, its log's tail
/// page) is spread too. The bench process itself (client and embedded baseline) is not pinned and competes for the
/// cores.
/// </remarks>
public static class ClusterScale
{
    public static async Task<int> RunAsync(string[] args)
    {
        string? Str(string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        int Arg(string name, int def) => Str(name) is { } s ? int.Parse(s, System.Globalization.CultureInfo.InvariantCulture) : def;
        bool dry = args.Contains("--dry");
        int count = Arg("--count", dry ? 2000 : 40000), dim = Arg("--dim", 128), nq = Arg("--queries", dry ? 100 : 2000);
        int concurrency = Arg("--concurrency", 8), k = Arg("--k", 10);
        var warmup = TimeSpan.FromSeconds(Arg("--warmup-seconds", dry ? 1 : 5));
        var maxWarmup = TimeSpan.FromSeconds(Math.Max(warmup.TotalSeconds, Arg("--max-warmup-seconds", dry ? 1 : 120)));
        string compression = Str("--compression") ?? "none";
        string cli = Str("--cli") ?? SiloProcess.BuiltCli();
        int fixedShards = Arg("--shards", 0);
        long[]? capMiB = Str("--cap-mib") is { } caps ? caps.Split(',').Select(c => long.Parse(c, System.Globalization.CultureInfo.InvariantCulture)).ToArray() : null;
        if (capMiB is { Length: not 2 }) throw new ArgumentException("--cap-mib takes two numbers: ONE,EACH (MiB per silo with one silo, and with two)");
        if (capMiB is not null && !MemoryCgroup.Available) throw new InvalidOperationException("--cap-mib needs the cgroup v1 memory controller at /sys/fs/cgroup/memory (and root)");

        var data = SyntheticData.Clustered(count, dim, seed: 7);
        var queries = SyntheticData.Clustered(nq, dim, seed: 8);
        var ids = Enumerable.Range(0, count).Select(i => (ulong)i).ToArray();
        var options = new CollectionOptions { Dimension = dim, Metric = Metric.L2, Compression = compression, Index = "flat" };
        var search = new SearchOptions { K = k };
        bool pin = !args.Contains("--no-pin") && Environment.ProcessorCount >= 2 && File.Exists("/usr/bin/taskset");
        Console.Error.WriteLine($"{count} x {dim}, {nq} queries, k {k}, {compression} + flat, concurrency {concurrency}, pinned {pin}, cores {Environment.ProcessorCount}");

        // The embedded baseline: one thread, the same collection in process.
        double embeddedUs;
        using (var db = VectorDatabase.CreateInMemory())
        {
            var c = db.CreateCollection("bench", options);
            for (int i = 0; i < count; i += 1000) c.UpsertBatch(ids[i..Math.Min(count, i + 1000)], data.Slice(i, Math.Min(1000, count - i)));
            for (int i = 0; i < Math.Min(nq, 50); i++) c.Search(queries.Row(i), search);
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < nq; i++) c.Search(queries.Row(i), search);
            embeddedUs = sw.Elapsed.TotalMicroseconds / nq;
        }

        var results = new Dictionary<int, Run>();
        foreach (int silos in new[] { 1, 2 })
        {
            try
            {
                results[silos] = await MeasureAsync(cli, silos, fixedShards > 0 ? fixedShards : 2 * silos, pin, capMiB?[silos - 1], options, ids, data, queries, search, concurrency, warmup, maxWarmup);
            }
            catch (Exception e) when (capMiB is not null && e is VectorStoreException or SiloExitedException)
            {
                // Under a cap, running out of memory is a result: the cap was too small for that run. Either the .NET
                // heap limit (75 % of the cap) refused an allocation, and the silo answered with a typed error, or
                // memory outside the heap took the group past its limit and the kernel killed the silo.
                Console.Error.WriteLine($"{silos} silo(s) under {capMiB[silos - 1]} MiB each: {e.Message}");
                Console.WriteLine(JsonSerializer.Serialize(new
                {
                    count, dim, compression, shards = fixedShards, cap_mib = capMiB[silos - 1], silos, failed = e.Message,
                    oom_kills = (e as SiloExitedException)?.OomKills ?? 0,
                }));
                return 3;
            }
            var r = results[silos];
            Console.Error.WriteLine($"{silos} silo(s): ingest {r.IngestPerSecond:0} vectors/s, search {r.Qps:0} q/s, single-query {r.SingleQueryUs:0} µs, anonymous RSS per silo {string.Join(", ", r.RssMiB.Select(m => $"{m:0} MiB"))} (idle {string.Join(", ", r.IdleMiB.Select(m => $"{m:0}"))}; settled {string.Join(", ", r.SettledMiB.Select(m => $"{m:0}"))})"
                + (r.Caps is { } cg ? $"; cgroup cap {capMiB![silos - 1]} MiB per silo, peak {string.Join(", ", cg.Select(g => $"{g.PeakMiB:0}"))} MiB, limit hit {string.Join(", ", cg.Select(g => g.FailCount))} times, OOM kills {cg.Sum(g => g.OomKills)}" : ""));
        }
        var one = results[1];
        var two = results[2];
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            count,
            dim,
            queries = nq,
            k,
            compression,
            concurrency,
            shards = fixedShards > 0 ? fixedShards.ToString(System.Globalization.CultureInfo.InvariantCulture) : "2 per silo",
            pinned = pin,
            cores = Environment.ProcessorCount,
            ingest_vps_1 = Math.Round(one.IngestPerSecond),
            ingest_vps_2 = Math.Round(two.IngestPerSecond),
            ingest_ratio = Math.Round(two.IngestPerSecond / one.IngestPerSecond, 2),
            qps_1 = Math.Round(one.Qps),
            qps_2 = Math.Round(two.Qps),
            qps_ratio = Math.Round(two.Qps / one.Qps, 2),
            silo_cpu_us_per_query_1 = Math.Round(one.LoadedCpuUs),
            silo_cpu_us_per_query_2 = Math.Round(two.LoadedCpuUs),
            single_silo_cpu_us_1 = Math.Round(one.SingleCpuUs),
            single_silo_cpu_us_2 = Math.Round(two.SingleCpuUs),
            rss_mib_1 = one.RssMiB.Select(m => Math.Round(m)).ToArray(),
            rss_mib_2 = two.RssMiB.Select(m => Math.Round(m)).ToArray(),
            idle_rss_mib_1 = one.IdleMiB.Select(m => Math.Round(m)).ToArray(),
            idle_rss_mib_2 = two.IdleMiB.Select(m => Math.Round(m)).ToArray(),
            data_mib_1 = one.RssMiB.Zip(one.IdleMiB, (r, i) => Math.Round(r - i)).ToArray(),
            data_mib_2 = two.RssMiB.Zip(two.IdleMiB, (r, i) => Math.Round(r - i)).ToArray(),
            settled_rss_mib_1 = one.SettledMiB.Select(m => Math.Round(m)).ToArray(),
            settled_rss_mib_2 = two.SettledMiB.Select(m => Math.Round(m)).ToArray(),
            settled_data_mib_1 = one.SettledMiB.Zip(one.IdleMiB, (r, i) => Math.Round(r - i)).ToArray(),
            settled_data_mib_2 = two.SettledMiB.Zip(two.IdleMiB, (r, i) => Math.Round(r - i)).ToArray(),
            raw_vectors_mib = Math.Round(count * (double)dim * sizeof(float) / (1 << 20)),
            embedded_us = Math.Round(embeddedUs, 1),
            single_query_us_1 = Math.Round(one.SingleQueryUs, 1),
            coordinator_us = Math.Round(one.SingleQueryUs - embeddedUs, 1),
            cap_mib_1 = capMiB?[0],
            cap_mib_2 = capMiB?[1],
            cgroup_peak_mib_1 = one.Caps?.Select(g => Math.Round(g.PeakMiB)).ToArray(),
            cgroup_peak_mib_2 = two.Caps?.Select(g => Math.Round(g.PeakMiB)).ToArray(),
            cgroup_limit_hits_1 = one.Caps?.Select(g => g.FailCount).ToArray(),
            cgroup_limit_hits_2 = two.Caps?.Select(g => g.FailCount).ToArray(),
            oom_kills = (one.Caps?.Sum(g => g.OomKills) ?? 0) + (two.Caps?.Sum(g => g.OomKills) ?? 0),
        }, new JsonSerializerOptions { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull }));
        return 0;
    }

    // SettledMiB: each silo's lowest anonymous RSS over SettleWindow from SettleDelay without requests, past the silos'
    // idle trim (--idle-trim, 10 s), so it holds what the data needs rather than the load's garbage.
    private sealed record Run(double IngestPerSecond, double Qps, double SingleQueryUs, double SingleCpuUs, double LoadedCpuUs, double[] RssMiB, double[] IdleMiB, double[] SettledMiB,
        CapReading[]? Caps);

    /// <summary>A capped silo's memory group at the end of its run: peak usage (anonymous + page cache), limit hits, OOM kills.</summary>
    private sealed record CapReading(double PeakMiB, long FailCount, long OomKills);

    /// <summary>How long the silos are left without requests before <see cref="Run.SettledMiB"/> is read.</summary>
    private static readonly TimeSpan SettleDelay = TimeSpan.FromSeconds(13);

    /// <summary>How long after <see cref="SettleDelay"/> the silos' memory is read once a second (the lowest counts).</summary>
    private static readonly TimeSpan SettleWindow = TimeSpan.FromSeconds(15);

    private static async Task<Run> MeasureAsync(string cli, int silos, int shards, bool pin, long? capMiB, CollectionOptions options, ulong[] ids, VectorMatrix data,
        VectorMatrix queries, SearchOptions search, int concurrency, TimeSpan warmup, TimeSpan maxWarmup)
    {
        string root = Path.Combine(Path.GetTempPath(), "vectorstore-cluster-bench", Guid.NewGuid().ToString("N"));
        int basePort = 22000 + Random.Shared.Next(0, 200) * 10;
        var processes = new List<SiloProcess>();
        var clients = new List<VectorStoreClient>();
        var groups = new List<MemoryCgroup>();
        try
        {
            for (int i = 0; i < silos; i++)
            {
                if (capMiB is long cap) groups.Add(MemoryCgroup.Create($"vectorstore-silo-{basePort}-{i}", cap << 20));
                processes.Add(await SiloProcess.StartAsync(cli, root, i, basePort, pin ? i % Environment.ProcessorCount : null, shards, replication: 1,
                    ["--shard-timeout", "60"], capMiB is null ? null : Path.Combine(groups[i].Path, "cgroup.procs")));
            }
            // Every silo has joined before the collection is laid out.
            await Task.Delay(silos > 1 ? 3000 : 0);
            // An idle silo's anonymous RSS (joined, no collection): what a silo holds before any data.
            var idle = processes.Select(p => p.ResidentMiB()).ToArray();
            foreach (var p in processes) clients.Add(await VectorStoreClient.ConnectAsync("127.0.0.1", p.Port));
            await clients[0].CreateCollectionAsync("bench", options);

            // Warm-up through every listener (JIT, connections): the first rows, replaced again by the timed ingest.
            foreach (var c in clients) await c.UpsertBatchAsync("bench", ids[..Math.Min(500, ids.Length)], data.Slice(0, Math.Min(500, ids.Length)));
            // Ingest: batches of 1,000 from `concurrency` writers, spread over the listeners.
            int batches = (ids.Length + 999) / 1000, next = -1;
            var sw = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async w =>
            {
                for (int b; (b = Interlocked.Increment(ref next)) < batches;)
                {
                    int start = b * 1000, n = Math.Min(1000, ids.Length - start);
                    await clients[b % clients.Count].UpsertBatchAsync("bench", ids[start..(start + n)], data.Slice(start, n));
                }
            }));
            double ingest = ids.Length / sw.Elapsed.TotalSeconds;
            Console.Error.WriteLine($"  {silos} silo(s): ingested, searching");

            // Warm-up: a silo's search path runs as tier-0 code until the JIT has promoted it (measured 4-5x slower;
            // a silo pinned to one core waits ten times longer between promotions), and the ingest's background
            // checkpoints finish. A running server is past this, so the measurement starts once one-second rounds of
            // the throughput load stop getting faster (at least `warmup`, at most `maxWarmup`).
            var warm = Stopwatch.StartNew();
            var rounds = new List<double>();
            int wq = 0;
            while (warm.Elapsed < maxWarmup)
            {
                var round = Stopwatch.StartNew();
                int done = 0;
                await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async w =>
                {
                    while (round.Elapsed < TimeSpan.FromSeconds(1))
                    {
                        int q = Interlocked.Increment(ref wq);
                        await clients[q % clients.Count].SearchAsync("bench", queries.RowMemory(q % queries.Count), search);
                        Interlocked.Increment(ref done);
                    }
                }));
                rounds.Add(done / round.Elapsed.TotalSeconds);
                if (warm.Elapsed >= warmup && rounds.Count >= 3 && rounds[^1] < 1.05 * Math.Max(rounds[^2], rounds[^3])) break;
            }
            Console.Error.WriteLine($"  warm-up {warm.Elapsed.TotalSeconds:0} s, q/s per round: {string.Join(' ', rounds.Select(r => r.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))}");

            // Single-query latency, one at a time through the first listener (the coordinator's cost).
            int singles = Math.Min(queries.Count, 500);
            var latencies = new double[singles];
            var cpu0 = processes.Select(p => p.CpuTime()).ToArray();
            sw.Restart();
            for (int i = 0; i < singles; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                await clients[0].SearchAsync("bench", queries.RowMemory(i), search);
                latencies[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            }
            double singleUs = sw.Elapsed.TotalMicroseconds / singles;
            double siloCpuUs = processes.Select((p, i) => (p.CpuTime() - cpu0[i]).TotalMicroseconds).Sum() / singles;
            Array.Sort(latencies);
            Console.Error.WriteLine($"  single-query p50 {latencies[singles / 2]:0} µs, p90 {latencies[singles * 9 / 10]:0} µs, p99 {latencies[singles * 99 / 100]:0} µs, silo CPU {siloCpuUs:0} µs per query");

            // Throughput: `concurrency` closed-loop clients, single-query requests, spread over the listeners.
            next = -1;
            cpu0 = processes.Select(p => p.CpuTime()).ToArray();
            sw.Restart();
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async w =>
            {
                for (int q; (q = Interlocked.Increment(ref next)) < queries.Count;)
                    await clients[q % clients.Count].SearchAsync("bench", queries.RowMemory(q), search);
            }));
            double qps = queries.Count / sw.Elapsed.TotalSeconds;
            // The silos' CPU per query under load: steadier than q/s on a shared machine, where another tenant's work
            // takes wall time from the pinned silos but not CPU time.
            double loadedCpuUs = processes.Select((p, i) => (p.CpuTime() - cpu0[i]).TotalMicroseconds).Sum() / queries.Count;
            Console.Error.WriteLine($"  throughput {qps:0} q/s, silo CPU {loadedCpuUs:0} µs per query");
            var loaded = processes.Select(p => p.ResidentMiB()).ToArray();
            await Task.Delay(SettleDelay);
            // A silo trims on its own sweep once its quiet period is over, a few seconds either side of SettleDelay
            // (one reading at 13 s caught a trim in some runs and not in others): the lowest of a window of readings.
            var settled = processes.Select(p => p.ResidentMiB()).ToArray();
            for (var window = Stopwatch.StartNew(); window.Elapsed < SettleWindow;)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                for (int i = 0; i < processes.Count; i++) settled[i] = Math.Min(settled[i], processes[i].ResidentMiB());
            }
            if (processes.Any(p => p.HasExited)) throw SiloGone(null);
            var caps = groups.Count == 0 ? null : groups.Select(g => new CapReading(g.MaxUsageBytes / (double)(1 << 20), g.FailCount, g.OomKills)).ToArray();
            return new Run(ingest, qps, singleUs, siloCpuUs, loadedCpuUs, loaded, idle, settled, caps);
        }
        catch (Exception e) when (processes.Any(p => p.HasExited))
        {
            throw SiloGone(e);
        }
        finally
        {
            foreach (var c in clients) await c.DisposeAsync();
            foreach (var p in Enumerable.Reverse(processes)) p.Stop();
            foreach (var g in groups) g.Dispose();
            try { Directory.Delete(root, recursive: true); } catch (IOException) { }
        }

        // A capped silo that went past what the page cache could give back was OOM-killed: say so, instead of reporting
        // a run some of whose silos were gone, or only the client's lost connection.
        SiloExitedException SiloGone(Exception? inner)
        {
            int gone = processes.FindIndex(p => p.HasExited);
            long kills = groups.Count > gone ? groups[gone].OomKills : 0;
            return new SiloExitedException($"silo {gone} of {silos} exited during the run"
                + (groups.Count > gone ? $" (OOM kills in its {capMiB} MiB cgroup: {kills})" : ""), inner, kills);
        }
    }

    /// <summary>A silo process ended during a run: under a cap, the kernel's OOM killer (<see cref="OomKills"/> &gt; 0).</summary>
    private sealed class SiloExitedException(string message, Exception? inner, long oomKills) : Exception(message, inner)
    {
        public long OomKills { get; } = oomKills;
    }
}
