using System.CommandLine;
using VectorStore.Cli.Remote;

namespace VectorStore.Cli.Commands;

/// <summary><c>info</c>: collections of a database directory with sizes and settings.</summary>
public sealed class InfoCommand : CliCommand
{
    public override Command Build()
    {
        var nameOpt = Opt<string?>("--collection", "Only this collection");
        var jsonOpt = Opt<bool>("--json", "Print one JSON object");
        var cmd = new Command("info", "Describe the collections of a database directory") { nameOpt, jsonOpt };
        var target = new DatabaseTarget().AddTo(cmd);
        cmd.SetAction(r => Guard(() =>
        {
            if (target.Resolve(r, out var server) is not { } dir)
                return target.RunRemote(r, server!, client => RemoteCommands.InfoAsync(client, r.GetValue(nameOpt), Console.Out, r.GetValue(jsonOpt)));
            using var db = DatabaseCli.Open(dir);
            var names = r.GetValue(nameOpt) is { } only ? [db.GetCollection(only).Name] : db.CollectionNames;
            var rows = new List<Dictionary<string, object?>>();
            foreach (var name in names)
            {
                var c = db.GetCollection(name);
                rows.Add(DatabaseOutput.InfoRow(name, c.Options, c.GetStats(), db.DiskBytes(name)));
            }
            DatabaseOutput.WriteInfo(rows, r.GetValue(jsonOpt), Console.Out);
            return 0;
        }));
        return cmd;
    }
}
