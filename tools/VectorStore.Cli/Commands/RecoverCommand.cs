using System.CommandLine;

namespace VectorStore.Cli.Commands;

/// <summary><c>recover</c>: rebuilds a lost MANIFEST from the collection directories (VectorDatabase.RecoverManifest).</summary>
public sealed class RecoverCommand : CliCommand
{
    public override Command Build()
    {
        var dbOpt = Opt<string>("--db", "Database directory whose MANIFEST was lost", required: true);
        var jsonOpt = Opt<bool>("--json", "Print one JSON line per recovered collection");
        var verifyOpt = Opt<bool>("--verify", "Then open the database read-only and read every stored vector and payload against its checksum (exit 2 naming a damaged file)");
        var cmd = new Command("recover", "Rebuild a lost MANIFEST from the collection directories (snapshots, segment row tables and log entries checked as an open checks them; vector rows only with --verify); prints 'recovered NAME COUNT'")
        {
            dbOpt, jsonOpt, verifyOpt,
        };
        cmd.SetAction(r => Guard(() =>
        {
            string dir = r.GetValue(dbOpt)!;
            bool verify = r.GetValue(verifyOpt);
            var recovered = VectorDatabase.RecoverManifest(dir).OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
            // The manifest is written either way: a damaged row found below is named, and the rest of the database opens.
            if (verify)
            {
                using var db = VectorDatabase.OpenReadOnly(dir);
                foreach (var (name, count) in recovered) EveryRowCheck.Run(db, dir, name, count, "recover --verify");
            }
            foreach (var (name, count) in recovered)
            {
                if (r.GetValue(jsonOpt)) WriteJsonLine(new Dictionary<string, object?> { ["collection"] = name, ["count"] = count, ["verified"] = verify });
                else Console.Out.WriteLine($"recovered {name} {count}{(verify ? " verified" : "")}");
            }
            Console.Out.Flush();
            return 0;
        }));
        return cmd;
    }
}
