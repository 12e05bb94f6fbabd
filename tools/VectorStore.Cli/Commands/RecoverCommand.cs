using System.CommandLine;

namespace VectorStore.Cli.Commands;

/// <summary><c>recover</c>: rebuilds a lost MANIFEST from the collection directories (VectorDatabase.RecoverManifest).</summary>
public sealed class RecoverCommand : CliCommand
{
    public override Command Build()
    {
        var dbOpt = Opt<string>("--db", "Database directory whose MANIFEST was lost", required: true);
        var jsonOpt = Opt<bool>("--json", "Print one JSON line per recovered collection");
        var cmd = new Command("recover", "Rebuild a lost MANIFEST from the collection directories (snapshots, segment row tables and log entries checked as an open checks them; vector rows are checked when read); prints 'recovered NAME COUNT'")
        {
            dbOpt, jsonOpt,
        };
        cmd.SetAction(r => Guard(() =>
        {
            foreach (var (name, count) in VectorDatabase.RecoverManifest(r.GetValue(dbOpt)!).OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                if (r.GetValue(jsonOpt)) WriteJsonLine(new Dictionary<string, object?> { ["collection"] = name, ["count"] = count });
                else Console.Out.WriteLine($"recovered {name} {count}");
            }
            Console.Out.Flush();
            return 0;
        }));
        return cmd;
    }
}
