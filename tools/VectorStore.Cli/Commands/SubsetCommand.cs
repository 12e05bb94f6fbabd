using System.CommandLine;
using VectorStore.IO;

namespace VectorStore.Cli.Commands;

/// <summary><c>subset</c>: a seeded random subset of a dataset written as .npy (float16 or float32) — how the demo sample was made.</summary>
public sealed class SubsetCommand : CliCommand
{
    public override Command Build()
    {
        var baseOpt = Opt<string>("--base", "Base vectors", required: true);
        var queryOpt = Opt<string>("--query", "Query vectors", required: true);
        var countOpt = Opt("--count", "Base vectors to keep", 10_000);
        var queriesOpt = Opt("--queries", "Queries to keep (the first N)", 200);
        var seedOpt = Opt("--seed", "Sampling seed", 1);
        var halfOpt = Opt<bool>("--half", "Store float16 instead of float32");
        var outOpt = Opt<string>("--out", "Output directory (base.npy, query.npy)", required: true);
        var cmd = new Command("subset", "Write a seeded random subset of a dataset as .npy files")
        {
            baseOpt, queryOpt, countOpt, queriesOpt, seedOpt, halfOpt, outOpt,
        };
        cmd.SetAction(r => Guard(() =>
        {
            // Checked before reading: a negative count reached the sampler and the reader as an array length.
            int count = r.GetValue(countOpt), queries = r.GetValue(queriesOpt);
            RequireRange("--count", count, 1, int.MaxValue);
            RequireRange("--queries", queries, 1, int.MaxValue);
            var b = VectorFiles.ReadVectors(r.GetValue(baseOpt)!);
            var q = VectorFiles.ReadVectors(r.GetValue(queryOpt)!, maxRows: queries);
            string dir = r.GetValue(outOpt)!;
            Directory.CreateDirectory(dir);
            bool half = r.GetValue(halfOpt);
            var sample = b.Sample(count, r.GetValue(seedOpt));
            string basePath = Path.Combine(dir, "base.npy"), queryPath = Path.Combine(dir, "query.npy");
            VectorFiles.WriteNpy(basePath, sample, half);
            VectorFiles.WriteNpy(queryPath, q, half);
            string type = half ? "float16" : "float32";
            // stderr, as every progress and summary line: stdout stays free for results.
            Console.Error.WriteLine($"wrote {basePath} ({sample.Count} of {b.Count} base vectors × {sample.Dimension}, {type})");
            Console.Error.WriteLine($"wrote {queryPath} ({q.Count} queries × {q.Dimension}, {type})");
            return 0;
        }));
        return cmd;
    }
}
