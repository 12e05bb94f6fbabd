using System.CommandLine;
using VectorStore.Collections;
using VectorStore.Filtering;

namespace VectorStore.Cli.Commands;

/// <summary><c>create</c>: creates a collection in a database directory (creating the directory if needed) or on a server.</summary>
public sealed class CreateCommand : CliCommand
{
    public override Command Build()
    {
        var nameOpt = Opt<string>("--collection", "Collection name", required: true);
        var dimOpt = Opt<int>("--dim", "Vector dimension", required: true);
        var metricOpt = Opt("--metric", "l2 | ip | cosine", "cosine");
        var compOpt = Opt("--compression", "none | sq8 | pq:M | pq:Mx4 | pca:D+…", "sq8");
        var indexOpt = Opt("--index", "flat | ivf:NLIST | hnsw:M[,EFC]", "flat");
        var thresholdOpt = Opt("--training-threshold", "Vectors collected before the codec and index are trained", 10_000);
        var seedOpt = Opt("--seed", "Training seed", 42);
        var rawOpt = Opt<string>("--raw-vectors", "Where full-precision vectors live: disk (memory-mapped segments; default for a database directory) | ram");
        var refineOpt = Opt<string?>("--refine", "Second-stage code kept in RAM (rq:B, B = 1..8, or sq8[:pv]): search --rerank N re-scores its N candidates with it and reads full precision only where its error bound requires");
        var fieldOpt = new Option<string[]>("--field")
        {
            Description = "Declare a metadata field NAME:TYPE, TYPE keyword | tags | int | double | bool | timestamp (repeatable; filters use them: search --where)",
            AllowMultipleArgumentsPerToken = false,
        };
        var cmd = new Command("create", "Create a collection in a database directory")
        {
            nameOpt, dimOpt, metricOpt, compOpt, indexOpt, thresholdOpt, seedOpt, rawOpt, fieldOpt, refineOpt,
        };
        var target = new DatabaseTarget().AddTo(cmd);
        cmd.SetAction(r => Guard(() =>
        {
            // The engine's own checks below name the setting, not the flag that gave it.
            RequireRange("--dim", r.GetValue(dimOpt), 1, CollectionOptions.MaxDimension);
            RequireRange("--training-threshold", r.GetValue(thresholdOpt), 1, int.MaxValue);
            var options = new CollectionOptions
            {
                Dimension = r.GetValue(dimOpt),
                Metric = MetricExtensions.Parse(r.GetValue(metricOpt)!),
                Compression = r.GetValue(compOpt)!,
                Index = r.GetValue(indexOpt)!,
                TrainingThreshold = r.GetValue(thresholdOpt),
                Seed = r.GetValue(seedOpt),
                RawVectors = r.GetValue(rawOpt) switch
                {
                    null => null,
                    "disk" => RawVectorResidency.Disk,
                    "ram" => RawVectorResidency.Ram,
                    var other => throw new InvalidArgumentException($"--raw-vectors must be disk or ram, got '{other}'"),
                },
                Fields = r.GetValue(fieldOpt) is { Length: > 0 } fields ? fields.Select(FieldDefinition.Parse).ToArray() : null,
                Refine = r.GetValue(refineOpt),
            };
            // Checked here too, so a bad spec is a usage error before a database is opened or a server contacted.
            options.Validate();
            string name = r.GetValue(nameOpt)!;
            target.Run(r, db => CreateAsync(db, name, options), create: true);
            Console.Error.WriteLine($"created collection '{name}' {target.Describe(r)}");
            return 0;
        }));
        return cmd;
    }

    /// <summary>Creates collection <paramref name="collection"/> with <paramref name="options"/>.</summary>
    public static Task CreateAsync(IVectorDatabaseClient db, string collection, CollectionOptions options) =>
        db.CreateCollectionAsync(collection, options);
}
