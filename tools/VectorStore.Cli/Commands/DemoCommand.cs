using System.CommandLine;
using System.Globalization;
using VectorStore.Evaluation;
using VectorStore.Indexing;
using VectorStore.IO;
using VectorStore.Quantization;

namespace VectorStore.Cli.Commands;

/// <summary>
/// <c>demo</c>: the README's main job. Builds the embedded sample (or a TEXMEX folder) into every compressed variant
/// this build supports, searches each, and prints the comparison with the uncompressed baseline.
/// </summary>
public sealed class DemoCommand : CliCommand
{
    /// <summary>Variants tried, in order; those whose codec or index is not in this build are skipped.</summary>
    internal static readonly (string Compression, string Index, int Rerank, string Sweep)[] Variants =
    [
        ("none", "flat", 0, "none"),
        ("sq8", "flat", 0, "none"),
        ("sq8", "flat", 40, "none"),
        ("pq:48", "flat", 100, "none"),
        ("pq:96x4", "flat", 100, "none"),
        ("pca:128+sq8", "flat", 100, "none"),
        ("bin", "flat", 200, "none"),
        ("sq8", "hnsw:16", 40, "ef=64"),
        ("pq:96x4", "ivf:100", 100, "nprobe=32"),
    ];

    public override Command Build()
    {
        var dataOpt = Opt<string?>("--data", "A TEXMEX folder (NAME_base.fvecs, NAME_query.fvecs, NAME_groundtruth.ivecs) instead of the embedded sample");
        var cmd = new Command("demo", "Build compressed variants of a dataset and compare them with the float32 baseline") { dataOpt };
        // --metric applies to --data only: the embedded sample is cosine.
        var shared = new EvalOptionSet(metric: "cosine", threads: 1, "Search threads").AddMeasurement(cmd);
        cmd.SetAction(r => Guard(() =>
        {
            var measure = shared.Settings(r);
            var (name, baseVectors, queries, truth, metric) = Load(r.GetValue(dataOpt), measure.Metric, measure.Database.Threads);
            bool json = r.GetValue(shared.Json);
            Console.Error.WriteLine($"dataset {name}: {baseVectors.Count} × {baseVectors.Dimension}, {queries.Count} queries, {metric.ToSpec()}");
            if (!json)
            {
                Console.WriteLine($"{"variant",-48} {"B/vec",8} {"vs f32",7} {"recall@10",9} {"qps",9} {"build s",8}");
                Console.WriteLine(new string('-', 94));
            }
            double f32 = baseVectors.Dimension * sizeof(float);
            var known = CodecRegistry.QuantizerNames.ToHashSet();
            var indexes = IndexRegistry.Names.ToHashSet();
            foreach (var (comp, index, rerank, sweep) in Variants)
            {
                if (!Supported(comp, index, known, indexes)) continue;
                var settings = measure with { Metric = metric, Compression = comp, Index = index, K = 10, Rerank = rerank };
                var runner = EvalRunner.Build(baseVectors, settings);
                var point = SweepPoint.ParseList(sweep)[0];
                var m = runner.Measure(queries, truth, point);
                string variant = $"{comp} / {index}" + (rerank > 0 ? $" / rerank {rerank}" : "") + (sweep != "none" ? $" / {sweep}" : "");
                if (json)
                {
                    WriteJsonLine(new Dictionary<string, object?>
                    {
                        ["variant"] = variant, ["compression"] = comp, ["index"] = index, ["rerank"] = rerank, ["param"] = point.ToString(),
                        ["bytes_per_vector"] = Math.Round(runner.BytesPerVector, 2),
                        ["memory_ratio"] = Math.Round(f32 / runner.BytesPerVector, 2),
                        ["recall_at_k"] = Math.Round(m.Recall, 4), ["k"] = 10, ["qps"] = Math.Round(m.Qps, 1),
                        ["build_seconds"] = Math.Round(runner.BuildSeconds, 3),
                    });
                }
                else
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{variant,-48} {runner.BytesPerVector,8:F1} {f32 / runner.BytesPerVector,6:F1}x {m.Recall,9:F4} {m.Qps,9:F0} {runner.BuildSeconds,8:F2}"));
                }
            }
            if (!json)
                Console.WriteLine("B/vec = resident codes + index per vector (full-precision vectors for re-ranking excluded); vs f32 = memory ratio against float32.");
            return 0;
        }));
        return cmd;
    }

    private static bool Supported(string compression, string index, HashSet<string> quantizers, HashSet<string> indexes)
    {
        var spec = CompressionSpec.Parse(compression);
        try { CodecRegistry.Validate(spec); }
        catch (InvalidArgumentException) { return false; }
        return indexes.Contains(IndexSpec.Parse(index).Name) && quantizers.Contains(spec.Quantizer.Name);
    }

    private static (string Name, VectorMatrix Base, VectorMatrix Queries, int[][] Truth, Metric Metric) Load(string? data, Metric metric, int threads)
    {
        if (data is not null)
        {
            var ds = Dataset.LoadTexmex(data);
            return (ds.Name, ds.Base, ds.Queries, ds.Truth, metric);
        }
        var b = ReadSample("base.npy");
        var q = ReadSample("query.npy");
        Console.Error.WriteLine("computing exact ground truth …");
        return ("debdesc-10k (embedded sample)", b, q, EvalRunner.ExactTruth(b, q, Metric.Cosine, 10, threads), Metric.Cosine);
    }

    /// <summary>
    /// Reads one array of the demo sample, which is compiled into the program (an embedded resource, see the project
    /// file) so the demo works from the program alone: a dotnet tool install and a NativeAOT single file alike.
    /// </summary>
    private static VectorMatrix ReadSample(string file)
    {
        string name = SampleResourcePrefix + file;
        using var stream = typeof(DemoCommand).Assembly.GetManifestResourceStream(name)
            ?? throw new VectorFileException(name, -1, "the embedded demo sample is missing from this build; pass --data DIR");
        return VectorFiles.ReadNpy(stream, name);
    }

    /// <summary>Logical name prefix of the sample's resources (LogicalName in the project file).</summary>
    private const string SampleResourcePrefix = "samples/debdesc-10k/";
}
