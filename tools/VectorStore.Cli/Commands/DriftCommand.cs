using System.CommandLine;

namespace VectorStore.Cli.Commands;

/// <summary><c>drift</c>: the drift sensors of a collection's live generation, each against its threshold.</summary>
public sealed class DriftCommand : CliCommand
{
    public override Command Build()
    {
        var nameOpt = Opt<string>("--collection", "Collection name", required: true);
        var jsonOpt = Opt<bool>("--json", "Print one JSON line");
        var cmd = new Command("drift", "Drift sensors of the live generation: whether any fired, each signal's value, threshold and training baseline") { nameOpt, jsonOpt };
        var target = new DatabaseTarget().AddTo(cmd).WithReadOnly(cmd);
        cmd.SetAction(r => Guard(() => target.Run(r, db => DriftAsync(db, r.GetValue(nameOpt)!, r.GetValue(jsonOpt), Console.Out))));
        return cmd;
    }

    /// <summary>Prints the drift report of <paramref name="collection"/>: one JSON line, or its <c>key=value</c> form.</summary>
    public static Task DriftAsync(IVectorDatabaseClient db, string collection, bool json, TextWriter stdout) =>
        LifecycleOutput.RunAsync(db, async lifecycle =>
            DatabaseOutput.WriteRow(LifecycleOutput.DriftRow(collection, await lifecycle.GetDriftAsync(collection).ConfigureAwait(false)), json, stdout));
}
