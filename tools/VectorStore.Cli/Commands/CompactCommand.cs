using System.CommandLine;

namespace VectorStore.Cli.Commands;

/// <summary><c>compact</c>: snapshot + log truncation, reclaiming deleted and overwritten records.</summary>
public sealed class CompactCommand : CliCommand
{
    public override Command Build()
    {
        var dbOpt = Opt<string>("--db", "Database directory", required: true);
        var nameOpt = Opt<string>("--collection", "Collection name", required: true);
        var jsonOpt = Opt<bool>("--json", "Print one JSON line");
        var cmd = new Command("compact", "Reclaim disk space of deleted and overwritten vectors") { dbOpt, nameOpt, jsonOpt };
        cmd.SetAction(r => Guard(() =>
        {
            using var db = DatabaseCli.Open(r.GetValue(dbOpt)!);
            string name = r.GetValue(nameOpt)!;
            long before = db.DiskBytes(name);
            db.Compact(name);
            long after = db.DiskBytes(name);
            if (r.GetValue(jsonOpt))
                WriteJsonLine(new Dictionary<string, object> { ["collection"] = name, ["bytes_before"] = before, ["bytes_after"] = after });
            else
                Console.Out.WriteLine($"{name}: {before} -> {after} bytes on disk");
            return 0;
        }));
        return cmd;
    }
}
