using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.IO;
using VectorStore.Ranking;

namespace VectorStore.Bench.Memory;

/// <summary>
/// The scale-and-memory benchmark: a seeded synthetic set (default 1,000,000 × 384 <see cref="SyntheticData.TextLike"/>
/// vectors: topics and sub-topics with a decaying spectrum, calibrated to the shared text set's neighbour statistics;
/// exact ground truth for 1,000 queries) is loaded durably into a persistent collection, then reopened and
/// searched by child processes: one inside a cgroup v1 memory group capped at <c>--cap-mb</c> (the cap counts page
/// cache too), one uncapped. Each child reports its open time, recall@10 and QPS per sweep point, and its anonymous
/// RSS after warm-up; an idle child (the runtime and the assemblies, no database) gives the baseline subtracted from
/// it. Resident bytes per vector = (searching child's anonymous RSS − idle child's) / count: measured, not computed.
/// <code>
/// dotnet bench/VectorStore.Bench/bin/Release/net10.0/VectorStore.Bench.dll scale-memory [--count 1000000] [--dim 384]
///     [--queries 1000] [--work DIR] [--compression pq:96x4] [--index ivf:1024] [--rerank 20,50,100] [--sweep nprobe=16,32,64]
///     [--cap-mb 512] [--raw-vectors disk|ram] [--uncapped-raw-vectors ram] [--min-time 2] [--data PREFIX] [--read-only-too 1]
///     [--payload-bytes 0] [--refine sq8|rq:B]
/// </code>
/// With <c>--refine</c> the collection keeps that second-stage code in RAM (<see cref="CollectionOptions.Refine"/>), so
/// a re-rank reads full precision only where the code's error bound cannot decide.
/// With <c>--payload-bytes N</c> every vector carries an N-byte payload (text-like bytes, as a RAG chunk would) and
/// every search returns its hits' payloads (<see cref="SearchOptions.IncludePayload"/>), so reading them is measured too.
/// With <c>--data PREFIX</c> a TEXMEX set (<c>PREFIX_base.fvecs</c>, <c>_query.fvecs</c>, <c>_groundtruth.ivecs</c>,
/// e.g. the shared text set for the edge scenario) replaces the generated one; count and dimension are the file's.
/// Data and databases are cached in the work directory (default: a folder under the temp directory) by their
/// parameters, so a second run measures search only.
/// </summary>
public static class ScaleMemory
{
    private const int Seed = 20261202;
    private const int K = 10;

    /// <summary>Entry point of <c>scale-memory</c>.</summary>
    public static int Run(string[] args)
    {
        var a = BenchArgs.Parse(args);
        int count = a.Int("count", 1_000_000), dim = a.Int("dim", 384), nq = a.Int("queries", 1_000);
        string work = a.Str("work", Path.Combine(Path.GetTempPath(), "vectorstore-scale"));
        string compression = a.Str("compression", "pq:96x4"), index = a.Str("index", "ivf:1024");
        string rerank = a.Str("rerank", "20,50,100");
        int capMb = a.Int("cap-mb", 512);
        string sweep = a.Str("sweep", index.StartsWith("hnsw", StringComparison.Ordinal) ? "ef=32,64,128" : "nprobe=16,32,64,128");
        string cappedMode = a.Str("raw-vectors", "disk"), uncappedMode = a.Str("uncapped-raw-vectors", "ram");
        double minTime = a.Double("min-time", 2);
        int payloadBytes = a.Int("payload-bytes", 0);
        string? refine = a.Str("refine", "") is { Length: > 0 } r ? r : null;
        Directory.CreateDirectory(work);

        string data = a.Str("data", "");
        string basePath, queryPath, gtPath;
        string label;
        if (data.Length > 0)
        {
            (basePath, queryPath, gtPath) = (data + "_base.fvecs", data + "_query.fvecs", data + "_groundtruth.ivecs");
            var head = VectorFiles.ReadVectors(basePath);
            (count, dim) = (head.Count, head.Dimension);
            label = Sanitize(Path.GetFileName(data));
        }
        else
        {
            (basePath, queryPath, gtPath) = PrepareData(work, count, dim, nq);
            label = $"{count}x{dim}";
        }
        if (payloadBytes > 0) label += $"-p{payloadBytes}";
        var rows = new List<Dictionary<string, object?>>();
        string DbDir(string mode) =>
            Path.Combine(work, $"db-{label}-{Sanitize(compression)}-{Sanitize(index)}{(refine is null ? "" : "-refine-" + Sanitize(refine))}-{mode}");
        foreach (var mode in new[] { cappedMode, uncappedMode }.Distinct())
        {
            string db = DbDir(mode);
            EnsureDatabase(db, basePath, dim, compression, index, refine, mode, payloadBytes);
        }
        string bench = typeof(ScaleMemory).Assembly.Location;
        // The capped database is searched twice: opened read-write (as a server would) and read-only (as a device
        // would: no log buffers, nothing written); the uncapped resident run is the baseline of both.
        bool alsoReadOnly = a.Int("read-only-too", 1) != 0;
        var runs = new List<(string Mode, long Cap, bool ReadOnly)> { (cappedMode, (long)capMb << 20, false) };
        if (alsoReadOnly) runs.Add((cappedMode, (long)capMb << 20, true));
        runs.Add((uncappedMode, 0L, false));
        foreach (var (mode, cap, readOnly) in runs)
        {
            string db = DbDir(mode);
            string common = $"--db {Quote(db)} --queries {Quote(queryPath)} --gt {Quote(gtPath)} --rerank {rerank} --sweep {sweep} --min-time {minTime.ToString(CultureInfo.InvariantCulture)} --read-only {(readOnly ? 1 : 0)} --include-payload {(payloadBytes > 0 ? 1 : 0)}";
            var idle = RunChild(bench, "idle", $"--queries {Quote(queryPath)} --gt {Quote(gtPath)}", cap, $"idle-{mode}");
            // Every child starts from a cold page cache for the database: the cap then has to hold whatever it reads.
            PageCacheEviction.Evict(db);
            var search = RunChild(bench, "search", common, cap, $"search-{mode}");
            foreach (var point in search.Points)
            {
                long anon = search.Summary.GetProperty("rss_anon_bytes").GetInt64();
                long idleAnon = idle.Summary.GetProperty("rss_anon_bytes").GetInt64();
                var row = new Dictionary<string, object?>
                {
                    ["raw_vectors"] = mode,
                    ["open"] = readOnly ? "read-only" : "read-write",
                    ["cap_mb"] = cap > 0 ? capMb : null,
                    ["compression"] = compression,
                    ["refine"] = refine,
                    ["index"] = index,
                    ["rerank"] = point.GetProperty("rerank").GetInt32(),
                    ["count"] = count,
                    ["payload_bytes"] = payloadBytes,
                    ["param"] = point.GetProperty("param").GetString(),
                    ["recall_at_k"] = point.GetProperty("recall_at_k").GetDouble(),
                    ["qps"] = point.GetProperty("qps").GetDouble(),
                    ["disk_reads_per_query"] = point.TryGetProperty("disk_reads_per_query", out var dr) ? dr.GetDouble() : null,
                    ["open_seconds"] = search.Summary.GetProperty("open_seconds").GetDouble(),
                    ["rss_anon_bytes"] = anon,
                    ["idle_rss_anon_bytes"] = idleAnon,
                    ["resident_bytes_per_vector"] = Math.Round((anon - idleAnon) / (double)count, 1),
                    ["cgroup_max_usage_bytes"] = search.CgroupMaxUsage,
                    ["cgroup_oom_kills"] = search.OomKills,
                    ["managed_live_bytes"] = search.Summary.GetProperty("managed_live_bytes").GetInt64(),
                    ["gc_committed_bytes"] = search.Summary.GetProperty("gc_committed_bytes").GetInt64(),
                    ["computed_resident_bytes"] = search.Summary.GetProperty("computed_resident_bytes").GetInt64(),
                };
                rows.Add(row);
                Console.WriteLine(JsonSerializer.Serialize(row));
            }
        }
        Summarize(rows, capMb);
        return 0;
    }

    /// <summary>Entry point of the child processes (<c>scale-memory-child idle|search …</c>).</summary>
    public static int Child(string[] args)
    {
        var a = BenchArgs.Parse(args[1..]);
        if (args[0] == "idle")
        {
            // The same runtime, assemblies and JIT of the types the search child touches, and the harness's own
            // queries and ground truth, without a database: what remains of the search child is the database's.
            _ = typeof(VectorDatabase).Assembly.GetTypes().Length;
            _ = new CollectionOptions { Dimension = 1 };
            var harness = (VectorFiles.ReadVectors(a.Str("queries", "")), VectorFiles.ReadIvecs(a.Str("gt", "")));
            long idleAnon = ProcessMemory.SettledAnonymousRssBytes();
            GC.KeepAlive(harness);
            Console.WriteLine(JsonSerializer.Serialize(new { rss_anon_bytes = idleAnon }));
            return 0;
        }
        var queries = VectorFiles.ReadVectors(a.Str("queries", ""));
        var truth = VectorFiles.ReadIvecs(a.Str("gt", ""));
        var reranks = a.Str("rerank", "100").Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        double minTime = a.Double("min-time", 2);
        var (kind, values) = ParseSweep(a.Str("sweep", "none"));
        var open = Stopwatch.StartNew();
        using var db = a.Int("read-only", 0) != 0 ? VectorDatabase.OpenReadOnly(a.Str("db", "")) : VectorDatabase.Open(a.Str("db", ""));
        var c = db.GetCollection(db.CollectionNames[0]);
        double openSeconds = open.Elapsed.TotalSeconds;
        var points = new List<object>();
        long settled = -1;
        foreach (int rerank in reranks)
        foreach (int v in values)
        {
            var options = new SearchOptions
            {
                K = K, Rerank = rerank,
                Ef = kind == "ef" ? v : 0,
                NProbe = kind == "nprobe" ? v : 0,
                IncludePayload = a.Int("include-payload", 0) != 0,
            };
            var found = new long[queries.Count][];
            long reads0 = c.Vectors.DiskReads;
            for (int q = 0; q < queries.Count; q++) found[q] = c.Search(queries.Row(q), options).Select(h => (long)h.Id).ToArray();
            double readsPerQuery = (c.Vectors.DiskReads - reads0) / (double)queries.Count;
            if (settled < 0) settled = ProcessMemory.SettledAnonymousRssBytes(); // after the first (warm-up) pass
            double recall = Recall.AtK(found, truth, K);
            int n = 0;
            var sw = Stopwatch.StartNew();
            do
            {
                for (int q = 0; q < queries.Count; q++) c.Search(queries.Row(q), options);
                n += queries.Count;
            }
            while (sw.Elapsed.TotalSeconds < minTime);
            points.Add(new Dictionary<string, object> { ["rerank"] = rerank, ["param"] = kind == "none" ? "none" : $"{kind}={v}", ["recall_at_k"] = Math.Round(recall, 4), ["qps"] = Math.Round(n / sw.Elapsed.TotalSeconds, 1), ["disk_reads_per_query"] = Math.Round(readsPerQuery, 2) });
        }
        // Where the anonymous memory is: the managed heap (live objects, and what the GC keeps committed) versus the
        // rest (runtime, JIT, native buffers such as the log's pages); and the collection's own accounting.
        var gc = GC.GetGCMemoryInfo();
        var stats = c.GetStats();
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            open_seconds = Math.Round(openSeconds, 3), rss_anon_bytes = settled, count = c.Count,
            managed_live_bytes = GC.GetTotalMemory(forceFullCollection: true), gc_committed_bytes = gc.TotalCommittedBytes,
            computed_resident_bytes = stats.ResidentBytes, index_bytes = stats.IndexBytes,
        }));
        foreach (var p in points) Console.WriteLine(JsonSerializer.Serialize(p));
        return 0;
    }

    private static (string Kind, int[] Values) ParseSweep(string s)
    {
        if (s == "none") return ("none", [0]);
        var parts = s.Split('=', 2);
        return (parts[0], parts[1].Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray());
    }

    private sealed record ChildResult(JsonElement Summary, List<JsonElement> Points, long CgroupMaxUsage, long OomKills);

    private static ChildResult RunChild(string bench, string mode, string arguments, long capBytes, string label)
    {
        string command = $"dotnet {Quote(bench)} scale-memory-child {mode} {arguments}";
        MemoryCgroup? group = capBytes > 0 ? MemoryCgroup.Create($"vectorstore-scale-{Environment.ProcessId}-{label}", capBytes) : null;
        try
        {
            var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in group is not null ? group.Wrap(command) : ["-c", $"exec {command}"]) psi.ArgumentList.Add(arg);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            var lines = new List<string>();
            while (p.StandardOutput.ReadLine() is { } line) lines.Add(line);
            p.WaitForExit();
            if (p.ExitCode != 0)
                throw new InvalidOperationException($"child '{label}' exited {p.ExitCode}{(group?.OomKills > 0 ? " (OOM-killed inside the cgroup)" : "")}: {stderr.Result}");
            var json = lines.Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
            return new ChildResult(json[0], json.Skip(1).ToList(), group?.MaxUsageBytes ?? -1, group?.OomKills ?? 0);
        }
        finally { group?.Dispose(); }
    }

    private static (string Base, string Query, string Truth) PrepareData(string work, int count, int dim, int nq)
    {
        string stem = Path.Combine(work, $"textlike-{count}x{dim}-q{nq}-s{Seed}");
        string b = stem + "_base.fvecs", q = stem + "_query.fvecs", t = stem + "_groundtruth.ivecs";
        if (File.Exists(t)) return (b, q, t);
        var sw = Stopwatch.StartNew();
        // Base and queries come from one draw so the queries follow the base distribution. TextLike is calibrated to
        // the shared text set's neighbour statistics (its clusters are as loose as real sentence embeddings'; the
        // plain Clustered generator's are so tight that every neighbour sits at cosine 0.99 and no 4-bit code can
        // rank them); normalized, searched with cosine.
        var all = SyntheticData.TextLike(count + nq, dim, seed: Seed);
        var baseVectors = all.Slice(0, count);
        var queries = all.Slice(count, nq);
        Console.Error.WriteLine($"# generated {count + nq} x {dim} in {sw.Elapsed.TotalSeconds:F1} s");
        var truth = GroundTruth.Compute(baseVectors, queries, 100, DistanceKind.NegativeDot);
        Console.Error.WriteLine($"# exact top-100 of {nq} queries in {sw.Elapsed.TotalSeconds:F1} s; {NeighbourStatistics.Measure(baseVectors, queries, truth)} (the text set at 50k: 0.758 / 0.570 / 0.437)");
        VectorFiles.WriteFvecs(b, baseVectors);
        VectorFiles.WriteFvecs(q, queries);
        VectorFiles.WriteIvecs(t + ".tmp", truth);
        File.Move(t + ".tmp", t, overwrite: true);
        return (b, q, t);
    }

    private static void EnsureDatabase(string dir, string basePath, int dim, string compression, string index, string? refine, string mode, int payloadBytes)
    {
        if (File.Exists(Path.Combine(dir, "MANIFEST")) && File.Exists(Path.Combine(dir, "LOADED"))) return;
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        var data = VectorFiles.ReadVectors(basePath);
        var sw = Stopwatch.StartNew();
        using (var db = VectorDatabase.Open(dir))
        {
            var options = new CollectionOptions
            {
                Dimension = dim, Metric = Metric.Cosine, Compression = compression, Index = index, Refine = refine,
                // Train once on a large sample rather than on the first 10,000 rows.
                TrainingThreshold = Math.Min(data.Count, 200_000), MaxTrainingSample = 200_000,
            };
            options = RawVectorsOption.Apply(options, mode);
            var c = db.CreateCollection("scale", options);
            const int batch = 10_000;
            for (int start = 0; start < data.Count; start += batch)
            {
                int n = Math.Min(batch, data.Count - start);
                var ids = new ulong[n];
                for (int i = 0; i < n; i++) ids[i] = (ulong)(start + i);
                c.UpsertBatch(ids, data.Slice(start, n), payloadBytes > 0 ? ids.Select(id => PayloadOf(id, payloadBytes)).ToArray() : null);
            }
        }
        File.WriteAllText(Path.Combine(dir, "LOADED"), sw.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture));
        Console.Error.WriteLine($"# durable load of {data.Count} into {dir} ({mode}) in {sw.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>An N-byte payload for <paramref name="id"/>: printable text that names the id, repeated (compresses as text would).</summary>
    private static byte[] PayloadOf(ulong id, int bytes)
    {
        var text = System.Text.Encoding.ASCII.GetBytes($"chunk {id}: the quick brown fox jumps over the lazy dog {id * 2654435761UL % 1000003}. ");
        var payload = new byte[bytes];
        for (int i = 0; i < bytes; i++) payload[i] = text[i % text.Length];
        return payload;
    }

    private static void Summarize(List<Dictionary<string, object?>> rows, int capMb)
    {
        Console.WriteLine($"{"raw_vectors",-11} {"open",-10} {"cap",6} {"rerank",6} {"param",-12} {"recall",7} {"qps",9} {"reads/q",8} {"open s",7} {"B/vec res",10} {"cg max MB",10}");
        foreach (var r in rows)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r["raw_vectors"],-11} {r["open"],-10} {(r["cap_mb"] is null ? "-" : r["cap_mb"] + "M"),6} {r["rerank"],6} {r["param"],-12} {(double)r["recall_at_k"]!,7:F4} {(double)r["qps"]!,9:F0} {r["disk_reads_per_query"],8} {(double)r["open_seconds"]!,7:F2} {r["resident_bytes_per_vector"],10} {((long)r["cgroup_max_usage_bytes"]! >> 20),10}"));
        // The verdict the issue asks for: the capped mode's fastest configuration reaching recall 0.95, against the
        // same configuration uncapped and resident, both measured in this run.
        var uncapped = rows.Where(r => r["cap_mb"] is null).ToList();
        foreach (var open in new[] { "read-write", "read-only" })
        {
            var capped = rows.Where(r => r["cap_mb"] is not null && Equals(r["open"], open)).ToList();
            if (capped.Count == 0 || uncapped.Count == 0) continue;
            var best = capped.Where(r => (double)r["recall_at_k"]! >= 0.95).OrderByDescending(r => (double)r["qps"]!).FirstOrDefault();
            if (best is null)
            {
                Console.WriteLine($"# verdict ({open}): no capped configuration reached recall 0.95");
                continue;
            }
            var same = uncapped.FirstOrDefault(r => Equals(r["rerank"], best["rerank"]) && Equals(r["param"], best["param"]));
            double ratio = same is null ? double.NaN : (double)best["qps"]! / (double)same["qps"]!;
            double openRatio = (double)capped[0]["open_seconds"]! / (double)uncapped[0]["open_seconds"]!;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"# verdict ({open}): capped at {capMb} MB, rerank {best["rerank"]} {best["param"]}: recall {(double)best["recall_at_k"]!:F4}, {(double)best["qps"]!:F0} QPS = {ratio:F2}x the uncapped resident run; resident {best["resident_bytes_per_vector"]} B/vector; open {openRatio:F2}x the resident open"));
        }
    }

    private static string Sanitize(string spec) => string.Concat(spec.Select(ch => char.IsLetterOrDigit(ch) ? ch : '_'));

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";
}
