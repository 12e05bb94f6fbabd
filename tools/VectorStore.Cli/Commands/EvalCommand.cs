using System.CommandLine;
using System.Globalization;
using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.IO;
using VectorStore.Indexing;
using VectorStore.Quantization;

namespace VectorStore.Cli.Commands;

/// <summary><c>eval</c>: in-memory build and measurement against ground truth, one JSON line per sweep point.</summary>
public sealed class EvalCommand : CliCommand
{
    public override Command Build()
    {
        var baseOpt = Opt<string>("--base", "Base vectors (.fvecs or .npy)", required: true);
        var queryOpt = Opt<string>("--query", "Query vectors (.fvecs or .npy)", required: true);
        var gtOpt = Opt<string?>("--gt", "Ground truth (.ivecs, top-k ids per query); computed exactly when omitted");
        var metricOpt = Opt("--metric", "l2 | ip | cosine", "l2");
        var compOpt = Opt("--compression", "none | sq8 | pq:M | pq:Mx4 | pca:D+… (see README)", "none");
        var indexOpt = Opt("--index", "flat | ivf:NLIST | hnsw:M[,EFC]", "flat");
        var kOpt = Opt("--k", "Results per query", 10);
        var rerankOpt = Opt("--rerank", "Re-score the best N candidates with full-precision vectors (0 = none)", 0);
        var targetOpt = Opt("--target-recall", "Automatic rerank: pick the depth reaching this recall@k on held-out base vectors (with --rerank 0)", 0.0);
        var sweepOpt = Opt("--sweep", "ef=16,32,… | nprobe=1,4,… | none", "none");
        var threadsOpt = Opt("--threads", "Search threads", 1);
        var jsonOpt = Opt<bool>("--json", "One JSON object per sweep point on stdout");
        var ffOpt = Opt<double?>("--filter-fraction", "Restrict every query to a random fraction of the base ids");
        var fsOpt = Opt("--filter-seed", "Seed of the filter subset", 1);
        var maxBaseOpt = Opt("--max-base", "Use only the first N base vectors (ground truth is then recomputed)", int.MaxValue);
        var maxQOpt = Opt("--max-queries", "Use only the first N queries", int.MaxValue);
        var minTimeOpt = Opt("--min-time", "Minimum seconds of the throughput phase per sweep point", 1.0);
        var seedOpt = Opt("--seed", "Training seed", 42);
        var cmd = new Command("eval", "Build an in-memory index over base vectors and measure recall, QPS and latency")
        {
            baseOpt, queryOpt, gtOpt, metricOpt, compOpt, indexOpt, kOpt, rerankOpt, targetOpt, sweepOpt, threadsOpt, jsonOpt,
            ffOpt, fsOpt, maxBaseOpt, maxQOpt, minTimeOpt, seedOpt,
        };
        cmd.SetAction(r => Guard(() =>
        {
            int k = r.GetValue(kOpt);
            RequireRange("--k", k, 1, MaxK);
            int rerank = r.GetValue(rerankOpt);
            RequireRange("--rerank", rerank, 0, MaxK);
            double targetRecall = r.GetValue(targetOpt);
            if (!(targetRecall is >= 0 and <= 1)) throw new UsageException($"--target-recall must be in 0..1, got {targetRecall}");
            int threads = r.GetValue(threadsOpt);
            RequireRange("--threads", threads, 1, 1024);
            var metric = MetricExtensions.Parse(r.GetValue(metricOpt)!);
            var sweep = SweepPoint.ParseList(r.GetValue(sweepOpt)!);
            bool json = r.GetValue(jsonOpt);
            var settings = new EvalSettings
            {
                Metric = metric,
                Compression = r.GetValue(compOpt)!,
                Index = r.GetValue(indexOpt)!,
                K = k,
                Rerank = rerank,
                TargetRecall = targetRecall,
                Threads = threads,
                MinSeconds = r.GetValue(minTimeOpt),
                Seed = r.GetValue(seedOpt),
            };
            // Validate specs before the (possibly long) data load; the dimension check follows once the data is read.
            CodecRegistry.Validate(CompressionSpec.Parse(settings.Compression));
            var indexSpec = IndexSpec.Parse(settings.Index);
            IndexRegistry.Get(indexSpec).Validate(indexSpec);
            // A sweep over a knob the index does not have would print identical rows labelled as different settings.
            string? knob = indexSpec.Name switch { "hnsw" => "ef", "ivf" => "nprobe", _ => null };
            if (sweep[0].Name != "none" && sweep[0].Name != knob)
                throw new UsageException($"--sweep {sweep[0].Name}=… does not apply to --index {settings.Index} ({(knob is null ? "it has no search parameter; use --sweep none" : $"use --sweep {knob}=…")})");
            int maxBase = r.GetValue(maxBaseOpt);
            var baseVectors = VectorFiles.ReadVectors(r.GetValue(baseOpt)!, maxRows: maxBase);
            var queries = VectorFiles.ReadVectors(r.GetValue(queryOpt)!, maxRows: r.GetValue(maxQOpt));
            if (queries.Dimension != baseVectors.Dimension)
                throw new InvalidArgumentException($"query dimension {queries.Dimension} differs from base dimension {baseVectors.Dimension}");
            if (baseVectors.Count == 0) throw new InvalidArgumentException("base file has no vectors");
            if (k > baseVectors.Count) throw new UsageException($"--k {k} exceeds the {baseVectors.Count} base vectors");
            var gtPath = r.GetValue(gtOpt);
            int[][] truth;
            if (gtPath is null || maxBase != int.MaxValue) truth = EvalRunner.ExactTruth(baseVectors, queries, metric, k);
            else truth = LoadTruth(gtPath, queries.Count, k, baseVectors.Count);

            double? ff = r.GetValue(ffOpt);
            SearchFilter? filter = null;
            if (ff is double fraction)
            {
                var (ids, filteredTruth) = EvalRunner.FilteredTruth(baseVectors, queries, metric, fraction, r.GetValue(fsOpt), k);
                truth = filteredTruth;
                filter = new SearchFilter { Ids = ids };
            }

            Progress($"building {settings.Compression} / {settings.Index} over {baseVectors.Count} × {baseVectors.Dimension} …");
            var runner = EvalRunner.Build(baseVectors, settings);
            Progress($"built in {runner.BuildSeconds:F2} s");
            if (!json) Console.WriteLine($"{"param",-14} {"recall@" + k,10} {"qps",10} {"p50_us",9} {"p99_us",9} {"B/vec",8}");
            foreach (var point in sweep)
            {
                var m = runner.Measure(queries, truth, point, filter);
                if (json)
                {
                    var line = new Dictionary<string, object>
                    {
                        ["index"] = settings.Index,
                        ["compression"] = settings.Compression,
                        ["param"] = point.ToString(),
                        ["k"] = k,
                        ["recall_at_k"] = Math.Round(m.Recall, 5),
                        ["qps"] = Math.Round(m.Qps, 1),
                        ["threads"] = threads,
                        ["p50_us"] = Math.Round(m.P50Us, 1),
                        ["p99_us"] = Math.Round(m.P99Us, 1),
                        ["build_seconds"] = Math.Round(runner.BuildSeconds, 3),
                        ["bytes_per_vector"] = Math.Round(runner.BytesPerVector, 2),
                        ["rerank_bytes_per_vector"] = Math.Round(runner.RerankBytesPerVector, 2),
                        ["rerank"] = runner.EffectiveRerank,
                        ["metric"] = metric.ToSpec(),
                        ["count"] = baseVectors.Count,
                        ["dim"] = baseVectors.Dimension,
                    };
                    if (ff is double f) line["filter_fraction"] = f;
                    WriteJsonLine(line);
                }
                else
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{point,-14} {m.Recall,10:F4} {m.Qps,10:F1} {m.P50Us,9:F1} {m.P99Us,9:F1} {runner.BytesPerVector,8:F1}"));
                }
            }
            return 0;
        }));
        return cmd;
    }

    internal static int[][] LoadTruth(string path, int queries, int k, int baseCount)
    {
        var gt = VectorFiles.ReadIvecs(path, queries);
        if (gt.Length < queries) throw new VectorFileException(path, gt.Length, $"ground truth has {gt.Length} rows for {queries} queries");
        for (int i = 0; i < gt.Length; i++)
        {
            if (gt[i].Length < k) throw new VectorFileException(path, i, $"ground truth row has {gt[i].Length} ids, fewer than k = {k}");
            foreach (var id in gt[i])
                if (id < 0 || id >= baseCount) throw new VectorFileException(path, i, $"id {id} is outside the {baseCount} base vectors");
        }
        return gt;
    }

    private static void Progress(string message) => Console.Error.WriteLine(message);
}
