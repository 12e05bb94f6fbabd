using System.CommandLine;
using System.Globalization;
using VectorStore.IO;
using VectorStore.Quantization;

namespace VectorStore.Cli.Commands;

/// <summary>
/// <c>vectorstore hash</c>: turns sparse text features into dense vectors with signed feature hashing, so any command
/// that takes <c>.fvecs</c> (<c>load</c>, <c>eval</c>, <c>report</c>) can index sparse inputs. One input line = one
/// vector: whitespace-separated <c>token:weight</c> pairs, bare tokens or <c>field=value</c> strings (weight 1).
/// With <c>--heavy N</c> the N features of largest total |weight| in the input keep exact slots (the hybrid); they
/// are written one per line to <c>--heavy-out</c> so queries can be hashed with the same map.
/// </summary>
public sealed class HashCommand : CliCommand
{
    /// <inheritdoc />
    public override Command Build()
    {
        var inputOpt = Opt<string>("--input", "text file, one sparse vector per line", required: true);
        var dimOpt = Opt<int>("--dim", "output dimension D", required: true);
        var seedOpt = Opt("--seed", "hash seed (use the same for base and queries)", 0x5eedL);
        var heavyOpt = Opt("--heavy", "features kept exact (hybrid); 0 = none", 0);
        var heavyInOpt = Opt<string?>("--heavy-in", "read the exact features from this file (as written by --heavy-out) instead of choosing them");
        var heavyOutOpt = Opt<string?>("--heavy-out", "write the chosen exact features here, one per line");
        var outOpt = Opt<string>("--out", "output .fvecs", required: true);
        var cmd = new Command("hash", "feature-hash sparse token:weight lines into dense .fvecs vectors")
        {
            inputOpt, dimOpt, seedOpt, heavyOpt, heavyInOpt, heavyOutOpt, outOpt,
        };
        cmd.SetAction(r => Guard(() =>
        {
            int dim = r.GetValue(dimOpt), heavy = r.GetValue(heavyOpt);
            RequireRange("--dim", dim, 1, 1 << 20);
            RequireRange("--heavy", heavy, 0, dim - 1);
            string input = r.GetValue(inputOpt)!;
            if (!File.Exists(input)) throw new UsageException($"--input '{input}' does not exist");
            var docs = new List<IReadOnlyList<SparseFeature>>();
            int lineNo = 0;
            foreach (var line in File.ReadLines(input))
            {
                lineNo++;
                try { docs.Add(SparseFeature.ParseLine(line)); }
                catch (InvalidVectorException e) { throw new InvalidArgumentException($"{input}:{lineNo}: {e.Message}"); }
            }
            ulong seed = unchecked((ulong)r.GetValue(seedOpt));
            string? heavyIn = r.GetValue(heavyInOpt);
            FeatureHasher hasher = heavyIn is not null
                ? new FeatureHasher(dim, seed, File.ReadAllLines(heavyIn).Where(l => l.Length > 0).ToArray())
                : heavy > 0 ? FeatureHasher.WithHeavyFeatures(dim, heavy, docs, seed) : new FeatureHasher(dim, seed);
            if (r.GetValue(heavyOutOpt) is { } heavyOut) File.WriteAllLines(heavyOut, hasher.ExactFeatures);
            VectorFiles.WriteFvecs(r.GetValue(outOpt)!, hasher.TransformBatch(docs));
            double m = docs.Count == 0 ? 0 : docs.Average(d => d.Count);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"hashed {docs.Count} vectors into {dim} dims ({hasher.ExactFeatures.Count} exact); measured colliding features " +
                $"{hasher.MeasuredCollisionRate(docs.Take(2_000)):F4}, mean {m:F1} features per vector"));
            return 0;
        }));
        return cmd;
    }
}
