using System.CommandLine;
using System.Globalization;
using VectorStore.Evaluation;

namespace VectorStore.Cli.Commands;

/// <summary>
/// <c>vectorstore report</c>: runs every compression variant under the same conditions, prints the comparison table
/// (or JSON lines with <c>--json</c>) and writes <c>DIR/report.html</c>, <c>DIR/report.jsonl</c> (also as <c>report.json</c>) and
/// two plot PNGs.
/// Variants whose spec the registry does not know are reported with an <c>error:</c> line and skipped; the exit
/// code is then 1 (after the others ran).
/// </summary>
public sealed class ReportCommand : CliCommand
{
    /// <inheritdoc />
    public override Command Build()
    {
        var variantsOpt = Opt("--variants", "comma-separated compression specs", "none,sq8,pca:128+sq8,prune:192+sq8,distill:96+sq8,bin");
        var efOpt = Opt("--ef", "HNSW beam width (0 = default)", 0);
        var nprobeOpt = Opt("--nprobe", "IVF lists probed (0 = default)", 0);
        var outOpt = Opt<string>("--out", "output directory for report.html, report.jsonl (and report.json, the same lines) and the plots", required: true);
        var cmd = new Command("report", "compare compression variants: table, JSON and an HTML report with plots")
        {
            variantsOpt, efOpt, nprobeOpt, outOpt,
        };
        var shared = new EvalOptionSet(metric: "cosine", threads: 0, "Threads of the all-threads throughput pass").AddData(cmd).AddSearch(cmd).AddMeasurement(cmd);
        cmd.SetAction(r => Guard(() =>
        {
            // Recall@100 and nDCG need at most 100 results per query, so k stops there.
            var settings = shared.Settings(r, maxK: 100) with { Ef = r.GetValue(efOpt), NProbe = r.GetValue(nprobeOpt) };
            RequireRange("--ef", settings.Ef, 0, MaxK);
            RequireRange("--nprobe", settings.NProbe, 0, 1 << 20);
            RequireKnobApplies(settings.Index, settings.Ef, settings.NProbe);
            var variants = SplitVariants(r.GetValue(variantsOpt)!);
            if (variants.Count == 0) throw new UsageException("--variants names no variant");
            string outDir = r.GetValue(outOpt)!;
            // Fail on an unwritable --out now, not after minutes of builds.
            Directory.CreateDirectory(outDir);
            var probe = Path.Combine(outDir, ".write-probe");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            ReportPlots.EnsureRenderer();
            var (baseVectors, queries, truth) = shared.ReadData(r);
            bool json = r.GetValue(shared.Json);
            var runner = new ReportRunner(baseVectors, queries, truth, settings);
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
                if (json) WriteJsonLine(Console.Out, row);
            }
            // report.jsonl is the honest name for these lines; report.json keeps the same content because existing
            // readers (ReportTests, EvalOptionSetTests) parse it line by line.
            var lines = rows.Select(ToJson).ToArray();
            File.WriteAllLines(Path.Combine(outDir, "report.jsonl"), lines);
            File.WriteAllLines(Path.Combine(outDir, "report.json"), lines);
            var plots = ReportPlots.Render(outDir, rows);
            string conditions = string.Create(CultureInfo.InvariantCulture,
                $"{baseVectors.Count} base vectors, {queries.Count} queries, dim {baseVectors.Dimension}, metric {settings.Metric.ToSpec()}, " +
                $"index {settings.Index}, k {settings.K}, rerank {settings.Rerank}, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
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
