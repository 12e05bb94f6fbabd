using System.Diagnostics;
using System.Globalization;
using System.Text;
using VectorStore.Collections;
using VectorStore.Evaluation;

namespace VectorStore.Bench.Indexing;

/// <summary>
/// VectorStore against the native C++ peers (FAISS built from source with AVX-512, hnswlib) on one TEXMEX set, in one
/// invocation: each VectorStore configuration is built and swept in this process, each peer configuration runs as a
/// child process of <c>peers/native</c>'s <c>bench</c> (one query per call, 1 and 2 threads, the same CSV columns),
/// back to back. For recall@10 ≥ 0.90 / 0.95 / 0.99 it prints every configuration's best QPS at 1 and at 2 threads
/// with its total resident bytes per vector — codes, graph or lists, and the re-rank source when that is in RAM — and
/// the ratio of VectorStore's best to the best peer's.
/// </summary>
/// <remarks>
/// <para>Bytes are computed the same way for every engine: the index's own size (FAISS's serialized index including
/// the refine vectors, hnswlib's saved index, VectorStore's codes + index) plus float32 vectors when a VectorStore
/// configuration re-ranks from RAM. A <c>disk</c> configuration re-ranks from memory-mapped segments: those bytes
/// sit in the page cache, not in the process's anonymous memory (issue 13's definition of resident).</para>
/// <para><c>dotnet bench/VectorStore.Bench/bin/Release/net10.0/VectorStore.Bench.dll native-peers DATA_DIR
/// --native /tmp/native/bin/bench [--metric ip|l2] [--seconds 1] [--sweep full|quick] [--rounds 1] [--csv FILE]</c>. Build the native bench
/// with <c>../shared/peers/native/build.sh</c> (its README). Without <c>--native</c> only VectorStore runs.</para>
/// <para>With <c>--batch bench/native/bin/batch</c> (built by <c>bench/native/build.sh</c> after the peers' build) it
/// compares batched search instead: every query in one call — VectorStore's <c>Collection.SearchBatch</c> against
/// FAISS's <c>index->search(nq, …)</c> — with OpenMP or the batch limited to one thread (the "1 thread" column) and to
/// two (the "2 threads" column), each the fastest of at least three calls. hnswlib has no batched call and is left
/// out.</para>
/// </remarks>
public static class NativePeers
{
    private static readonly double[] s_targets = [0.90, 0.95, 0.99];

    /// <summary>One measured point of one configuration.</summary>
    private sealed record Point(string Engine, string Config, string Param, double BytesPerVector, double Recall, double Qps1, double Qps2)
    {
        public bool IsVectorStore => Engine == "vectorstore";
    }

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
        {
            Console.Error.WriteLine("usage: native-peers DATA_DIR [--native PATH_TO_BENCH | --batch PATH_TO_BATCH] [--metric ip|l2] [--seconds S] [--sweep full|quick] [--rounds R] [--csv FILE]");
            return 2;
        }
        string dir = args[0];
        var a = BenchArgs.Parse(args[1..]);
        string? native = a.TryGet("native", out var path) ? path : null;
        string? batch = a.TryGet("batch", out var batchPath) ? batchPath : null;
        if (native is not null && batch is not null) throw new ArgumentException("--native and --batch compare different calls: give one");
        bool quick = a.Str("sweep", "full") == "quick";
        double seconds = a.Double("seconds", quick ? 0.3 : 1);
        int rounds = a.Int("rounds", 1);
        if (rounds is < 1 or > 20) throw new ArgumentException($"--rounds must be in 1..20, got {rounds}");
        string? csv = a.TryGet("csv", out var file) ? file : null;
        var ds = Dataset.LoadTexmex(dir);
        string metric = a.Str("metric", IsUnitNorm(ds.Base) ? "ip" : "l2");
        if (metric is not ("ip" or "l2")) throw new ArgumentException($"--metric must be ip or l2, got {metric}");
        int d = ds.Base.Dimension, n = ds.Base.Count;
        int m4 = d / 4; // 4-bit PQ with one sub-quantizer per 4 dimensions, as the peer configurations use
        string calls = batch is null ? "one query per call" : "all queries in one batched call";
        Console.WriteLine($"# {ds.Name}: n={n} d={d} nq={ds.Queries.Count} metric={metric}; k=10; QPS: {calls}, 1 and 2 threads; {seconds} s per timing"
            + (rounds > 1 ? $"; {rounds} rounds, VectorStore and the peers in alternating order, each point's best QPS" : ""));
        Console.WriteLine($"# machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, load {LoadAverage()}");
        var points = new List<Point>();

        // VectorStore: ip on unit-norm data is cosine (the stored vectors are normalized either way).
        var vsMetric = metric == "l2" ? Metric.L2 : Metric.Cosine;
        int[] nprobes = quick ? [16, 48, 128, 256] : [8, 16, 24, 32, 48, 64, 96, 128, 160, 192, 256];
        int[] reranks = quick ? [20, 100] : [10, 20, 40, 60, 100, 150, 200];
        // Below the re-rank depth (40) the beam is that depth anyway.
        int[] efs = quick ? [40, 128] : [40, 48, 64, 96, 128, 192, 256];
        var opqProbes = (quick ? [16, 64] : new[] { 16, 24, 32, 48, 56, 64, 72, 80, 88, 96 }).Select(p => new SweepPoint("nprobe", p)).ToArray();
        var vs = new (string Config, EvalSettings Settings, SweepPoint[] Sweep)[]
        {
            ($"pq:{m4}x4+ivf:256 rerank 100", Settings(vsMetric, $"pq:{m4}x4", "ivf:256", 100, RawVectorResidency.Ram, seconds),
                nprobes.Select(p => new SweepPoint("nprobe", p)).ToArray()),
            ($"pq:{m4}x4+ivf:256 rerank 100, raw on disk", Settings(vsMetric, $"pq:{m4}x4", "ivf:256", 100, RawVectorResidency.Disk, seconds),
                nprobes.Select(p => new SweepPoint("nprobe", p)).ToArray()),
            ($"pq:{m4}x4 flat", Settings(vsMetric, $"pq:{m4}x4", "flat", 0, RawVectorResidency.Ram, seconds),
                reranks.Select(r => new SweepPoint("rerank", r)).ToArray()),
            ("sq8+hnsw:16 rerank 40", Settings(vsMetric, "sq8", "hnsw:16", 40, RawVectorResidency.Ram, seconds),
                efs.Select(e => new SweepPoint("ef", e)).ToArray()),
            // Shallower re-ranks: on low-dimensional sets (SIFT) 0.95 needs fewer candidates than 0.99.
            ($"pq:{m4}x4+ivf:256 rerank 40", Settings(vsMetric, $"pq:{m4}x4", "ivf:256", 40, RawVectorResidency.Ram, seconds),
                nprobes.Select(p => new SweepPoint("nprobe", p)).ToArray()),
            ("sq8+hnsw:16 rerank 20", Settings(vsMetric, "sq8", "hnsw:16", 20, RawVectorResidency.Ram, seconds),
                (quick ? [20, 40] : new[] { 20, 24, 32, 40, 48, 64 }).Select(e => new SweepPoint("ef", e)).ToArray()),
            // Fewer, larger lists: at 0.99 on the text set a query's true neighbours lie in over half of 256 lists, and
            // 128 lists reach it with less list overhead (eval: nprobe 88 of 128, 12.7k QPS, against 160 of 256, 11.3k).
            ($"pq:{m4}x4+ivf:128 rerank 100", Settings(vsMetric, $"pq:{m4}x4", "ivf:128", 100, RawVectorResidency.Ram, seconds),
                (quick ? [16, 64, 128] : new[] { 8, 16, 24, 32, 48, 64, 72, 80, 88, 96, 112, 128 }).Select(p => new SweepPoint("nprobe", p)).ToArray()),
            // The same lists, shallower: on SIFT 10k (about 80 entries a list) 0.95 needs nprobe 24 of 128 at depth 40.
            ($"pq:{m4}x4+ivf:128 rerank 40", Settings(vsMetric, $"pq:{m4}x4", "ivf:128", 40, RawVectorResidency.Ram, seconds),
                (quick ? [16, 64] : new[] { 8, 12, 16, 20, 24, 32, 48 }).Select(p => new SweepPoint("nprobe", p)).ToArray()),
            // The graph over sq8 codes with the float32 vectors on disk: on the text set the codes alone rank well
            // enough for 0.95 without a re-rank, at fewer bytes than FAISS's HNSW32,SQ8 holds (543 against 656).
            ("sq8+hnsw:16 no rerank, raw on disk", Settings(vsMetric, "sq8", "hnsw:16", 0, RawVectorResidency.Disk, seconds),
                (quick ? [32, 64] : new[] { 16, 24, 32, 40, 48, 64, 96, 128 }).Select(e => new SweepPoint("ef", e)).ToArray()),
            ("sq8+hnsw:16 rerank 20, raw on disk", Settings(vsMetric, "sq8", "hnsw:16", 20, RawVectorResidency.Disk, seconds),
                (quick ? [32, 128] : new[] { 20, 32, 48, 64, 96, 128, 192 }).Select(e => new SweepPoint("ef", e)).ToArray()),
            // sq8 codes as an in-RAM second stage after the 4-bit scan, the float32 vectors on disk: its error bound leaves
            // a read or two of the 100 candidates, so 0.99 costs the 4-bit scan plus 100 sq8 scores.
            ($"pq:{m4}x4+ivf:128 rerank 100, refine sq8, raw on disk", Settings(vsMetric, $"pq:{m4}x4", "ivf:128", 100, RawVectorResidency.Disk, seconds, "sq8"),
                (quick ? [16, 64] : new[] { 16, 24, 32, 48, 64, 72, 80, 88, 96, 112, 128 }).Select(p => new SweepPoint("nprobe", p)).ToArray()),
            // The same two with OPQ's learned rotation before the 4-bit codes: on the text set they rank the true
            // neighbours better (recall 0.9906 at nprobe 72 of 128, where plain pq needs 88 for 0.991), so 0.99 scans
            // a fifth fewer codes. The query's rotation (bfloat16 copy of the matrix) costs a few microseconds.
            ($"opq+pq:{m4}x4+ivf:128 rerank 100", Settings(vsMetric, $"opq+pq:{m4}x4", "ivf:128", 100, RawVectorResidency.Ram, seconds), opqProbes),
            ($"opq+pq:{m4}x4+ivf:128 rerank 100, refine sq8, raw on disk", Settings(vsMetric, $"opq+pq:{m4}x4", "ivf:128", 100, RawVectorResidency.Disk, seconds, "sq8"), opqProbes),
        };
        Console.WriteLine("engine,config,param,bytes_per_vector,recall10,qps1,qps2");
        // With more than one round, built once and kept, so a later round re-times the same collections; with one,
        // each is garbage after its sweep, as the peers' indexes are after theirs.
        var runners = new EvalRunner?[vs.Length];
        void MeasureVectorStore()
        {
            for (int c = 0; c < vs.Length; c++)
            {
                var (config, settings, sweep) = vs[c];
                var runner = runners[c] ?? EvalRunner.Build(ds.Base, settings);
                if (rounds > 1) runners[c] = runner;
                // Warm-up: the first timed point would otherwise pay for the JIT's later tiers.
                runner.MeasureOnThreads(ds.Queries, ds.Truth, sweep[0], null, 1);
                foreach (var point in sweep)
                {
                    var (recall, one, two) = batch is null ? Single(runner, ds, point) : Batched(runner, ds, point);
                    double bytes = runner.BytesPerVector + runner.RerankBytesPerVectorAt(point);
                    Emit(points, new Point("vectorstore", config, point.ToString(), bytes, recall, one, two));
                    if (recall >= 0.995) break; // past every target: the rest of the sweep is slower
                }
            }
        }

        string? exe = native ?? batch;
        if (exe is not null && !File.Exists(exe))
            throw new FileNotFoundException(native is not null
                ? $"native bench not found: {exe} (build it with shared/peers/native/build.sh)"
                : $"batch bench not found: {exe} (build it with bench/native/build.sh, after shared/peers/native/build.sh)");
        void MeasurePeers()
        {
            if (exe is null) return;
            string prefix = Path.Combine(dir, ds.Name);
            string[] files = [prefix + "_base.fvecs", prefix + "_query.fvecs", prefix + "_groundtruth.ivecs", metric];
            string[][] peers =
            [
                ["faiss", .. files, $"PQ{m4}x4fs,RFlat", quick ? "k_factor=2,10" : "k_factor=1,2,4,6,10,20,40"],
                ["faiss", .. files, $"IVF256,PQ{m4}x4fs,RFlat", quick ? "nprobe=16,64,256" : "nprobe=8,16,24,32,48,64,96,128,192,256", "k_factor=10"],
                ["faiss", .. files, "HNSW32,SQ8", quick ? "efSearch=32,128" : "efSearch=16,32,64,128,256,512"],
                ["hnswlib", .. files, "16", "200", quick ? "32,128" : "10,20,40,80,160,320,640"],
            ];
            // The batch program takes the FAISS arguments without the engine name.
            if (batch is not null) peers = peers.Where(p => p[0] == "faiss").Select(p => p[1..]).ToArray();
            foreach (var peerArgs in peers)
                foreach (var row in RunNative(exe, peerArgs, seconds))
                {
                    var f = row.Split(',');
                    if (f.Length < 9) continue;
                    double bytes = double.Parse(f[4], CultureInfo.InvariantCulture) / n;
                    Emit(points, new Point(f[0], f[1], f[2], bytes, Parse(f[5]), Parse(f[6]), Parse(f[7])));
                }
        }

        // Other tenants' load comes and goes within minutes, and one engine's whole sweep runs after the other's:
        // alternating the order over rounds and keeping each point's best gives every engine the quiet minutes too.
        for (int r = 0; r < rounds; r++)
        {
            if (rounds > 1) Console.WriteLine($"# round {r + 1} of {rounds}, load {LoadAverage()}");
            if (r % 2 == 1) MeasurePeers();
            MeasureVectorStore();
            if (r % 2 == 0) MeasurePeers();
        }

        points = BestOfRounds(points);
        Summarize(points);
        if (csv is not null)
        {
            var sb = new StringBuilder("engine,config,param,bytes_per_vector,recall10,qps1,qps2\n");
            foreach (var p in points) sb.AppendLine(Row(p));
            File.WriteAllText(csv, sb.ToString());
        }
        return 0;
    }

    /// <summary>One query per call: recall and QPS at one thread, QPS at two.</summary>
    private static (double Recall, double Qps1, double Qps2) Single(EvalRunner runner, Dataset ds, SweepPoint point)
    {
        var one = runner.MeasureOnThreads(ds.Queries, ds.Truth, point, null, 1);
        var two = runner.MeasureOnThreads(ds.Queries, ds.Truth, point, null, 2);
        return (one.Recall, one.Qps, two.Qps);
    }

    /// <summary>Every query in one call: recall and QPS at one thread, QPS at two.</summary>
    private static (double Recall, double Qps1, double Qps2) Batched(EvalRunner runner, Dataset ds, SweepPoint point)
    {
        var (recall, one) = runner.MeasureBatch(ds.Queries, ds.Truth, point, 1);
        return (recall, one, runner.MeasureBatch(ds.Queries, ds.Truth, point, 2).Qps);
    }

    private static EvalSettings Settings(Metric metric, string compression, string index, int rerank, RawVectorResidency raw, double seconds,
        string? refine = null) => new()
    {
        Refine = refine,
        Metric = metric,
        Compression = compression,
        Index = index,
        K = 10,
        Rerank = rerank,
        Threads = 1,
        MinSeconds = seconds,
        RawVectors = raw,
    };

    /// <summary>
    /// One point per (engine, configuration, parameter): the best QPS at each thread count over the rounds, and the
    /// lowest recall any round measured — a peer that rebuilds its graph each round may land a little differently, and
    /// a point then counts for a target only if every round reached it.
    /// </summary>
    private static List<Point> BestOfRounds(List<Point> points) =>
        points.GroupBy(p => (p.Engine, p.Config, p.Param))
            .Select(g => g.First() with { Recall = g.Min(p => p.Recall), Qps1 = g.Max(p => p.Qps1), Qps2 = g.Max(p => p.Qps2) })
            .ToList();

    private static void Emit(List<Point> points, Point p)
    {
        points.Add(p);
        Console.WriteLine(Row(p));
    }

    private static string Row(Point p) => FormattableString.Invariant(
        $"{p.Engine},\"{p.Config}\",{p.Param},{p.BytesPerVector:F1},{p.Recall:F4},{p.Qps1:F0},{p.Qps2:F0}");

    /// <summary>Per target: each configuration's best QPS (1 and 2 threads, each over the points reaching it), then the ratios.</summary>
    private static void Summarize(List<Point> points)
    {
        foreach (double target in s_targets)
        {
            Console.WriteLine();
            Console.WriteLine(FormattableString.Invariant($"## recall@10 >= {target:F2}"));
            Console.WriteLine("| engine | configuration | B/vector | best QPS, 1 thread (at) | best QPS, 2 threads |");
            Console.WriteLine("|---|---|---|---|---|");
            var best = new List<(Point One, double Qps2)>();
            foreach (var group in points.GroupBy(p => (p.Engine, p.Config)))
            {
                var reaching = group.Where(p => p.Recall >= target).ToList();
                if (reaching.Count == 0)
                {
                    Console.WriteLine(FormattableString.Invariant($"| {group.Key.Engine} | {group.Key.Config} | {group.First().BytesPerVector:F0} | never (best recall {group.Max(p => p.Recall):F4}) | – |"));
                    continue;
                }
                var one = reaching.MaxBy(p => p.Qps1)!;
                double two = reaching.Max(p => p.Qps2);
                best.Add((one, two));
                Console.WriteLine(FormattableString.Invariant($"| {one.Engine} | {one.Config} | {one.BytesPerVector:F0} | {one.Qps1:F0} ({one.Param}, {one.Recall:F4}) | {two:F0} |"));
            }
            var ours = best.Where(b => b.One.IsVectorStore).ToList();
            var peers = best.Where(b => !b.One.IsVectorStore).ToList();
            if (ours.Count == 0 || peers.Count == 0) continue;
            var peer1 = peers.MaxBy(b => b.One.Qps1);
            var peer2 = peers.MaxBy(b => b.Qps2);
            var ours1 = ours.MaxBy(b => b.One.Qps1);
            var ours2 = ours.MaxBy(b => b.Qps2);
            Console.WriteLine(FormattableString.Invariant(
                $"ratio, 1 thread: VectorStore {ours1.One.Config} {ours1.One.Qps1:F0} / {peer1.One.Engine} {peer1.One.Config} {peer1.One.Qps1:F0} = {ours1.One.Qps1 / peer1.One.Qps1:F2}x"));
            Console.WriteLine(FormattableString.Invariant(
                $"ratio, 2 threads: VectorStore {ours2.One.Config} {ours2.Qps2:F0} / {peer2.One.Engine} {peer2.One.Config} {peer2.Qps2:F0} = {ours2.Qps2 / peer2.Qps2:F2}x"));
            // The same comparison restricted to VectorStore configurations that hold no more bytes than that peer.
            var lean = ours.Where(b => b.One.BytesPerVector <= peer1.One.BytesPerVector).ToList();
            if (lean.Count > 0)
            {
                var l = lean.MaxBy(b => b.One.Qps1);
                Console.WriteLine(FormattableString.Invariant(
                    $"ratio, 1 thread, at no more B/vector than that peer ({peer1.One.BytesPerVector:F0}): {l.One.Config} ({l.One.BytesPerVector:F0} B) {l.One.Qps1 / peer1.One.Qps1:F2}x"));
            }
        }
    }

    /// <summary>Runs the native bench once; returns its CSV rows (its progress goes to this process's stderr).</summary>
    private static List<string> RunNative(string native, string[] args, double seconds)
    {
        var psi = new ProcessStartInfo(native) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["MIN_TIME_S"] = seconds.ToString(CultureInfo.InvariantCulture);
        psi.Environment["BUILD_THREADS"] = "2";
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {native}");
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("  [native] " + e.Data); };
        p.BeginErrorReadLine();
        var rows = new List<string>();
        string? line;
        while ((line = p.StandardOutput.ReadLine()) is not null)
            if (line.StartsWith("faiss-cpp,", StringComparison.Ordinal) || line.StartsWith("hnswlib-cpp,", StringComparison.Ordinal)
                || line.StartsWith("faiss-batch,", StringComparison.Ordinal)) rows.Add(line);
        p.WaitForExit();
        // The configuration follows the files and metric (and the engine name, which the batch program does not take).
        if (p.ExitCode != 0) Console.Error.WriteLine($"native bench {string.Join(' ', args.SkipWhile(a => !a.EndsWith(".ivecs", StringComparison.Ordinal)).Skip(2))} exited with {p.ExitCode}");
        return rows;
    }

    private static bool IsUnitNorm(VectorMatrix m)
    {
        for (int i = 0; i < Math.Min(100, m.Count); i++)
        {
            double s = 0;
            foreach (float v in m.Row(i)) s += v * v;
            if (Math.Abs(s - 1) > 1e-3) return false;
        }
        return true;
    }

    private static double Parse(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    private static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "?"; }
    }
}
