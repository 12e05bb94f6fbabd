using System.CommandLine;
using System.Globalization;
using VectorStore.Evaluation;
using VectorStore.IO;

namespace VectorStore.Cli.Commands;

/// <summary>
/// <c>vectorstore report</c>: runs every compression variant under the same conditions, prints the comparison table
/// (or JSON lines with <c>--json</c>) and writes <c>DIR/report.html</c>, <c>DIR/report.json</c> and two plot PNGs.
/// Variants whose spec the registry does not know are reported with an <c>error:</c> line and skipped; the exit
/// code is then 1 (after the others ran).
/// </summary>
public sealed class ReportCommand : CliCommand
{
    /// <inheritdoc />
    public override Command Build()
    {
        var baseOpt = Opt<string>("--base", "base vectors (.fvecs or .npy)", required: true);
        var queryOpt = Opt<string>("--query", "query vectors (.fvecs or .npy)", required: true);
        var gtOpt = Opt<string?>("--gt", "ground truth .ivecs (base rows nearest first); computed exactly when absent");
        var metricOpt = Opt("--metric", "l2, ip or cosine", "cosine");
        var variantsOpt = Opt("--variants", "comma-separated compression specs", "none,sq8,pca:128+sq8,prune:192+sq8,distill:96+sq8,bin");
        var indexOpt = Opt("--index", "flat, ivf:NLIST or hnsw:M[,EFC]", "flat");
        var kOpt = Opt("--k", "results per query of the timed search", 10);
        var rerankOpt = Opt("--rerank", "re-score the best N candidates at full precision (0 = none)", 0);
        var efOpt = Opt("--ef", "HNSW beam width (0 = default)", 0);
        var nprobeOpt = Opt("--nprobe", "IVF lists probed (0 = default)", 0);
        var threadsOpt = Opt("--threads", "threads of the all-threads pass and of building (0 = all cores)", 0);
        var minSecondsOpt = Opt("--min-seconds", "minimum wall time of each throughput pass per variant", 1.0);
        var maxBaseOpt = Opt("--max-base", "use only the first N base vectors (ground truth then computed)", 0);
        var maxQueriesOpt = Opt("--max-queries", "use only the first N queries", 0);
        var outOpt = Opt<string>("--out", "output directory for report.html, report.json and the plots", required: true);
        var jsonOpt = Opt("--json", "print one JSON line per variant instead of the table", false);
        var cmd = new Command("report", "compare compression variants: table, JSON and an HTML report with plots")
        {
            baseOpt, queryOpt, gtOpt, metricOpt, variantsOpt, indexOpt, kOpt, rerankOpt, efOpt, nprobeOpt, threadsOpt,
            minSecondsOpt, maxBaseOpt, maxQueriesOpt, outOpt, jsonOpt,
        };
        cmd.SetAction(r => Guard(() =>
        {
            int k = r.GetValue(kOpt), rerank = r.GetValue(rerankOpt);
            RequireRange("--k", k, 1, 100);
            RequireRange("--rerank", rerank, 0, MaxK);
            RequireRange("--threads", r.GetValue(threadsOpt), 0, 1024);
            var variants = SplitVariants(r.GetValue(variantsOpt)!);
            if (variants.Count == 0) throw new UsageException("--variants names no variant");
            // Cheap checks before loading files that may take seconds to read.
            Indexing.IndexRegistry.Get(Indexing.IndexSpec.Parse(r.GetValue(indexOpt)!));
            var metric = MetricExtensions.Parse(r.GetValue(metricOpt)!);
            string outDir = r.GetValue(outOpt)!;
            // Fail on an unwritable --out now, not after minutes of builds.
            Directory.CreateDirectory(outDir);
            var probe = Path.Combine(outDir, ".write-probe");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            int maxBase = r.GetValue(maxBaseOpt), maxQueries = r.GetValue(maxQueriesOpt);
            var baseVectors = VectorFiles.ReadVectors(r.GetValue(baseOpt)!, maxRows: maxBase > 0 ? maxBase : int.MaxValue);
            var queries = VectorFiles.ReadVectors(r.GetValue(queryOpt)!, maxRows: maxQueries > 0 ? maxQueries : int.MaxValue);
            string? gtPath = r.GetValue(gtOpt);
            // A truncated base invalidates the file's ground truth, so it is recomputed then.
            var truth = gtPath is not null && maxBase == 0 ? VectorFiles.ReadIvecs(gtPath, queries.Count) : null;
            var options = new ReportOptions
            {
                Metric = metric,
                Index = r.GetValue(indexOpt)!,
                K = k,
                Rerank = rerank,
                Ef = r.GetValue(efOpt),
                NProbe = r.GetValue(nprobeOpt),
                Threads = r.GetValue(threadsOpt),
                MinSeconds = r.GetValue(minSecondsOpt),
            };
            if (!(options.MinSeconds is >= 0 and <= 3600)) throw new UsageException($"--min-seconds must be in 0..3600, got {options.MinSeconds}");
            bool json = r.GetValue(jsonOpt);
            var runner = new ReportRunner(baseVectors, queries, truth, options);
            var rows = new List<ReportRow>();
            int failed = 0;
            foreach (var row in runner.Run(variants, new SyncProgress(Console.Error)))
            {
                rows.Add(row);
                if (row.Error is not null)
                {
                    failed++;
                    Console.Error.WriteLine($"error: variant '{row.Compression}' skipped: {row.Error}");
                }
                if (json) WriteJsonLine(row);
            }
            using (var f = File.CreateText(Path.Combine(outDir, "report.json")))
                foreach (var row in rows) f.WriteLine(System.Text.Json.JsonSerializer.Serialize(row, JsonOptions));
            var plots = ReportPlots.Render(outDir, rows);
            string conditions = string.Create(CultureInfo.InvariantCulture,
                $"{baseVectors.Count} base vectors, {queries.Count} queries, dim {baseVectors.Dimension}, metric {options.Metric.ToSpec()}, " +
                $"index {options.Index}, k {k}, rerank {rerank}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
            string html = ReportHtml.Write(outDir, "VectorStore compression report", conditions, rows, plots);
            if (!json)
            {
                Console.Out.WriteLine(conditions);
                Console.Out.Write(ReportHtml.ToText(rows));
            }
            Console.Error.WriteLine($"wrote {html}");
            return failed > 0 ? 1 : 0;
        }));
        return cmd;
    }

    /// <summary>
    /// Splits the <c>--variants</c> list. Specs may contain commas themselves (<c>pca:128,w+sq8</c>,
    /// <c>prune:192,var+sq8</c>, <c>hash:256,32</c>), so a comma-separated piece is glued back to the previous one when
    /// that one has an argument (':') and the piece starts with a number or a short flag (at most 3 letters, like
    /// <c>w</c> or <c>var</c>) that is not a stage name. ';' always separates.
    /// </summary>
    public static IReadOnlyList<string> SplitVariants(string text)
    {
        var known = new HashSet<string>(Quantization.CodecRegistry.QuantizerNames.Concat(Quantization.CodecRegistry.TransformNames), StringComparer.Ordinal);
        var result = new List<string>();
        foreach (var group in text.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var specs = new List<string>();
            foreach (var piece in group.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                string head = piece.Split(':', '+')[0].ToLowerInvariant();
                bool argument = head.Length > 0 && (head.All(char.IsAsciiDigit) || (head.Length <= 3 && !known.Contains(head)));
                if (specs.Count > 0 && specs[^1].Contains(':') && argument) specs[^1] += "," + piece;
                else specs.Add(piece);
            }
            result.AddRange(specs);
        }
        return result;
    }

    /// <summary>Writes progress lines synchronously (Progress&lt;T&gt; would post them to the thread pool, out of order).</summary>
    private sealed class SyncProgress(TextWriter writer) : IProgress<string>
    {
        public void Report(string value) => writer.WriteLine(value);
    }
}
