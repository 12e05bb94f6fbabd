using System.CommandLine;
using VectorStore.Collections;

namespace VectorStore.Cli.Commands;

/// <summary><c>create</c>: creates a collection in a database directory (creating the directory if needed).</summary>
public sealed class CreateCommand : CliCommand
{
    public override Command Build()
    {
        var dbOpt = Opt<string>("--db", "Database directory", required: true);
        var nameOpt = Opt<string>("--collection", "Collection name", required: true);
        var dimOpt = Opt<int>("--dim", "Vector dimension", required: true);
        var metricOpt = Opt("--metric", "l2 | ip | cosine", "cosine");
        var compOpt = Opt("--compression", "none | sq8 | pq:M | pq:Mx4 | pca:D+…", "sq8");
        var indexOpt = Opt("--index", "flat | ivf:NLIST | hnsw:M[,EFC]", "flat");
        var thresholdOpt = Opt("--training-threshold", "Vectors collected before the codec and index are trained", 10_000);
        var seedOpt = Opt("--seed", "Training seed", 42);
        var cmd = new Command("create", "Create a collection in a database directory")
        {
            dbOpt, nameOpt, dimOpt, metricOpt, compOpt, indexOpt, thresholdOpt, seedOpt,
        };
        cmd.SetAction(r => Guard(() =>
        {
            var options = new CollectionOptions
            {
                Dimension = r.GetValue(dimOpt),
                Metric = MetricExtensions.Parse(r.GetValue(metricOpt)!),
                Compression = r.GetValue(compOpt)!,
                Index = r.GetValue(indexOpt)!,
                TrainingThreshold = r.GetValue(thresholdOpt),
                Seed = r.GetValue(seedOpt),
            };
            options.Validate();
            using var db = DatabaseCli.Open(r.GetValue(dbOpt)!, create: true);
            db.CreateCollection(r.GetValue(nameOpt)!, options);
            Console.Error.WriteLine($"created collection '{r.GetValue(nameOpt)}' in {db.Directory}");
            return 0;
        }));
        return cmd;
    }
}
