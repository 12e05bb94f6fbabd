using System.CommandLine;
using System.Globalization;
using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Filtering;
using VectorStore.IO;
using VectorStore.Indexing;
using VectorStore.Quantization;

namespace VectorStore.Cli.Commands;

/// <summary><c>eval</c>: in-memory build and measurement against ground truth, one JSON line per sweep point.</summary>
public sealed class EvalCommand : CliCommand
{
    public override Command Build()
    {
        var compOpt = Opt("--compression", "none | sq8 | pq:M | pq:Mx4 | pca:D+… (see README)", "none");
        var targetOpt = Opt("--target-recall", "Automatic settings: pick the re-rank depth, and the IVF nprobe unless swept, reaching this recall@k on held-out base vectors (with --rerank 0)", 0.0);
        var tuneQueriesOpt = Opt<string?>("--tune-queries", "With --target-recall: tune on these queries (.fvecs/.bvecs/.npy; best a sample of real traffic, not the --query set) instead of held-out base vectors; tunes the HNSW ef too");
        var sweepOpt = Opt("--sweep", "ef=16,32,… | nprobe=1,4,… | rerank=20,40,… | none", "none");
        var ffOpt = Opt<double?>("--filter-fraction", "Restrict every query to a random fraction of the base ids");
        var fsOpt = Opt("--filter-seed", "Seed of the filter subset", 1);
        var rawOpt = Opt("--raw-vectors", "ram (in memory) | disk (a temporary database directory; vectors read from memory-mapped segments)", "ram");
        var refineOpt = Opt<string?>("--refine", "Second-stage code in RAM (rq:B or sq8[:pv]): re-scores the --rerank candidates; full precision only where its error bound requires");
        var fieldsOpt = Opt<string?>("--fields", "Tab-separated field values, a header row of field names, row i for base vector i (with --where)");
        var fieldOpt = new Option<string[]>("--field") { Description = "Declare a field type, NAME:TYPE (keyword|tags|int|double|bool|timestamp); repeatable. Columns --where names without a declaration are keywords", AllowMultipleArgumentsPerToken = false };
        var batchOpt = new Option<bool>("--batch") { Description = "Also time batched search (every query in one SearchBatch call, on --threads workers): batch_qps in JSON, a batch_qps column otherwise" };
        var whereOpt = Opt<string?>("--where", "Filter expression over --fields columns, e.g. \"kind == 'para' and prefix contains 'lib'\"; recall is against the exact filtered top-k");
        var cmd = new Command("eval", "Build an in-memory index over base vectors and measure recall, QPS and latency")
        {
            compOpt, targetOpt, tuneQueriesOpt, sweepOpt, ffOpt, fsOpt, rawOpt, refineOpt, fieldsOpt, fieldOpt, whereOpt, batchOpt,
        };
        var shared = new EvalOptionSet(metric: "l2", threads: 1, "Search threads").AddData(cmd).AddSearch(cmd).AddMeasurement(cmd);
        cmd.SetAction(r => Guard(() =>
        {
            double targetRecall = r.GetValue(targetOpt);
            if (!(targetRecall is >= 0 and <= 1)) throw new UsageException($"--target-recall must be in 0..1, got {targetRecall}");
            var raw = r.GetValue(rawOpt) switch
            {
                "ram" => RawVectorResidency.Ram,
                "disk" => RawVectorResidency.Disk,
                var other => throw new UsageException($"--raw-vectors must be ram or disk, got '{other}'"),
            };
            var settings = shared.Settings(r) with { Compression = r.GetValue(compOpt)!, TargetRecall = targetRecall, RawVectors = raw, Refine = r.GetValue(refineOpt) };
            var sweep = SweepPoint.ParseList(r.GetValue(sweepOpt)!);
            bool rerankSweep = sweep[0].Name == "rerank";
            if (settings.Refine is not null && settings.Rerank <= 0 && !rerankSweep)
                throw new UsageException("--refine re-scores the --rerank candidates: give --rerank N (the depth whose full-precision reads the bound may cut)");
            if (rerankSweep && targetRecall > 0)
                throw new UsageException("--sweep rerank=… names each point's depth; --target-recall would choose it: give one");
            if (rerankSweep && sweep.Max(p => p.Value) > SearchOptions.MaxK)
                throw new UsageException($"--sweep rerank=… values must be at most {SearchOptions.MaxK}");
            string? fieldsPath = r.GetValue(fieldsOpt), whereText = r.GetValue(whereOpt);
            if ((fieldsPath is null) != (whereText is null)) throw new UsageException("--fields and --where go together");
            if (whereText is not null && r.GetValue(ffOpt) is not null) throw new UsageException("--where and --filter-fraction are alternatives; give one");
            // Parsed before the data load, so a typo costs nothing.
            var where = whereText is null ? null : FilterParser.Parse(whereText);
            var declared = (r.GetValue(fieldOpt) ?? []).Select(FieldDefinition.Parse).ToArray();
            FieldDefinition.ValidateAll(declared);
            int k = settings.K;
            bool json = r.GetValue(shared.Json);
            // Validate specs before the (possibly long) data load; the dimension check follows once the data is read.
            CodecRegistry.Validate(CompressionSpec.Parse(settings.Compression));
            // A sweep over a knob the index does not have would print identical rows labelled as different settings.
            string? knob = IndexSpec.Parse(settings.Index).Name switch { "hnsw" => "ef", "ivf" => "nprobe", _ => null };
            // rerank=… applies to every index; it replaces --rerank.
            if (sweep[0].Name is not ("none" or "rerank") && sweep[0].Name != knob)
                throw new UsageException($"--sweep {sweep[0].Name}=… does not apply to --index {settings.Index} ({(knob is null ? "it has no search parameter; use --sweep none or rerank=…" : $"use --sweep {knob}=… or rerank=…")})");
            string? tuneQueriesPath = r.GetValue(tuneQueriesOpt);
            if (tuneQueriesPath is not null && targetRecall <= 0) throw new UsageException("--tune-queries tunes for --target-recall: give both");
            var (baseVectors, queries, fileTruth) = shared.ReadData(r);
            if (tuneQueriesPath is not null)
                settings = settings with { TuneQueries = EvalOptionSet.ReadQueries(tuneQueriesPath, "--tune-queries", baseVectors.Dimension) };
            if (k > baseVectors.Count) throw new UsageException($"--k {k} exceeds the {baseVectors.Count} base vectors");
            var truth = fileTruth is null
                ? EvalRunner.ExactTruth(baseVectors, queries, settings.Metric, k, settings.Database.Threads)
                : CheckTruth(r.GetValue(shared.GroundTruth)!, fileTruth, queries.Count, k, baseVectors.Count);

            double? ff = r.GetValue(ffOpt);
            SearchFilter? filter = null;
            double? selectivity = null;
            if (where is not null)
            {
                // Only the declared columns and those the expression names are read (a free-text column need not fit a keyword).
                var names = new HashSet<string>(declared.Select(d => d.Name), StringComparer.Ordinal);
                CollectFieldNames(where, names);
                var table = FieldTable.Read(fieldsPath!, declared, undeclaredAsKeyword: true, only: names);
                // --max-base keeps the first N base rows, so the fields file, written for the whole base file, keeps its
                // first N rows too. Without a cut the counts must agree. (A base file of exactly N rows is taken as cut.)
                int maxBase = r.GetValue(shared.MaxBase);
                bool cut = maxBase > 0 && baseVectors.Count == maxBase;
                if (table.Rows.Count < baseVectors.Count || (!cut && table.Rows.Count != baseVectors.Count))
                    throw new VectorFileException(fieldsPath!, -1,
                        $"{table.Rows.Count} rows of field values for {baseVectors.Count} base vectors{(cut ? $" (the first {maxBase}, --max-base)" : "")}");
                var rows = table.Rows.Take(baseVectors.Count).ToArray();
                settings = settings with { Fields = table.Fields, FieldValues = rows };
                var allowed = rows.Select(row => FilterReference.Matches(where, table.Fields, row)).ToArray();
                selectivity = allowed.Count(a => a) / (double)Math.Max(1, allowed.Length);
                truth = EvalRunner.FilteredTruth(baseVectors, queries, settings.Metric, i => allowed[i], k, settings.Database.Threads);
                filter = new SearchFilter { Where = where };
            }
            if (ff is double fraction)
            {
                var (ids, filteredTruth) = EvalRunner.FilteredTruth(baseVectors, queries, settings.Metric, fraction, r.GetValue(fsOpt), k, settings.Database.Threads);
                truth = filteredTruth;
                filter = new SearchFilter { Ids = ids };
            }

            Progress($"building {settings.Compression} / {settings.Index} over {baseVectors.Count} × {baseVectors.Dimension} …");
            // Measured, not computed: anonymous RSS after the first point's warm-up minus the same process's before
            // the collection was built (the data and ground truth are held in both).
            long rssBefore = ProcessMemory.SettledAnonymousRssBytes();
            var runner = EvalRunner.Build(baseVectors, settings);
            double? residentPerVector = null;
            Progress($"built in {runner.BuildSeconds:F2} s");
            bool batch = r.GetValue(batchOpt);
            if (!json) Console.WriteLine($"{"param",-14} {"recall@" + k,10} {"qps",10} {"p50_us",9} {"p99_us",9} {"B/vec",8}" + (batch ? $" {"batch_qps",10}" : ""));
            foreach (var requested in sweep)
            {
                var point = runner.Resolve(requested);
                var m = runner.Measure(queries, truth, point, filter);
                double? batchQps = batch ? runner.MeasureBatch(queries, truth, point, 0, filter).Qps : null;
                if (residentPerVector is null && rssBefore > 0)
                    residentPerVector = Math.Max(0, ProcessMemory.SettledAnonymousRssBytes() - rssBefore) / (double)baseVectors.Count;
                if (json)
                {
                    var line = new Dictionary<string, object?>
                    {
                        ["index"] = settings.Index,
                        ["compression"] = settings.Compression,
                        ["param"] = point.ToString(),
                        ["k"] = k,
                        ["recall_at_k"] = Math.Round(m.Recall, 5),
                        ["qps"] = Math.Round(m.Qps, 1),
                        ["threads"] = EvalSettings.Resolve(settings.Threads),
                        ["p50_us"] = Math.Round(m.P50Us, 1),
                        ["p99_us"] = Math.Round(m.P99Us, 1),
                        ["build_seconds"] = Math.Round(runner.BuildSeconds, 3),
                        ["bytes_per_vector"] = Math.Round(runner.BytesPerVector, 2),
                        ["rerank_bytes_per_vector"] = Math.Round(runner.RerankBytesPerVectorAt(point), 2),
                        ["resident_bytes_per_vector"] = residentPerVector is double rb ? Math.Round(rb, 1) : null,
                        ["disk_reads_per_query"] = Math.Round(m.DiskReadsPerQuery, 2),
                        ["full_precision_reads_per_query"] = Math.Round(m.FullPrecisionReadsPerQuery, 2),
                        ["rerank"] = runner.RerankAt(point),
                        ["refine"] = settings.Refine,
                        ["metric"] = settings.Metric.ToSpec(),
                        ["count"] = baseVectors.Count,
                        ["dim"] = baseVectors.Dimension,
                    };
                    if (batchQps is double bq) line["batch_qps"] = Math.Round(bq, 1);
                    if (ff is double f) line["filter_fraction"] = f;
                    if (where is not null)
                    {
                        line["where"] = where.ToString();
                        line["filter_selectivity"] = Math.Round(selectivity!.Value, 6);
                        line["filter_matches_per_query"] = Math.Round(m.FilterMatches, 1);
                        line["filter_plans"] = m.FilterPlans.ToDictionary(p => p.Key, p => (object?)p.Value);
                    }
                    WriteJsonLine(line);
                }
                else
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{point,-14} {m.Recall,10:F4} {m.Qps,10:F1} {m.P50Us,9:F1} {m.P99Us,9:F1} {runner.BytesPerVector,8:F1}{(batchQps is double q ? $" {q,10:F1}" : "")}"));
                }
            }
            return 0;
        }));
        return cmd;
    }

    /// <summary>Checks that the ground truth of <paramref name="path"/> has a row of at least k base rows per query.</summary>
    private static int[][] CheckTruth(string path, int[][] gt, int queries, int k, int baseCount)
    {
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

    /// <summary>Adds every field name <paramref name="e"/> mentions to <paramref name="names"/>.</summary>
    private static void CollectFieldNames(FilterExpression e, HashSet<string> names)
    {
        switch (e)
        {
            case AndFilter a: foreach (var o in a.Operands) CollectFieldNames(o, names); break;
            case OrFilter o: foreach (var x in o.Operands) CollectFieldNames(x, names); break;
            case NotFilter n: CollectFieldNames(n.Operand, names); break;
            case ComparisonFilter c: names.Add(c.Field); break;
            case InFilter i: names.Add(i.Field); break;
            case ContainsFilter c: names.Add(c.Field); break;
            case ExistsFilter x: names.Add(x.Field); break;
        }
    }
}
