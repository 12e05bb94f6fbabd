using System.CommandLine;

namespace VectorStore.Cli.Commands;

/// <summary><c>info</c>: collections of a database directory with sizes and settings.</summary>
public sealed class InfoCommand : CliCommand
{
    public override Command Build()
    {
        var dbOpt = Opt<string>("--db", "Database directory", required: true);
        var nameOpt = Opt<string?>("--collection", "Only this collection");
        var jsonOpt = Opt<bool>("--json", "Print one JSON object");
        var cmd = new Command("info", "Describe the collections of a database directory") { dbOpt, nameOpt, jsonOpt };
        cmd.SetAction(r => Guard(() =>
        {
            using var db = DatabaseCli.Open(r.GetValue(dbOpt)!);
            var names = r.GetValue(nameOpt) is { } only ? [db.GetCollection(only).Name] : db.CollectionNames;
            var rows = new List<Dictionary<string, object>>();
            foreach (var name in names)
            {
                var c = db.GetCollection(name);
                var s = c.GetStats();
                rows.Add(new Dictionary<string, object>
                {
                    ["name"] = name,
                    ["count"] = s.Count,
                    ["dim"] = s.Dimension,
                    ["metric"] = c.Options.Metric.ToSpec(),
                    ["compression"] = s.Compression,
                    ["index"] = s.Index,
                    ["bytes_on_disk"] = db.DiskBytes(name),
                    ["trained"] = s.Trained,
                    ["index_bytes"] = s.IndexBytes,
                    ["rerank_bytes"] = s.RerankBytes,
                });
            }
            if (r.GetValue(jsonOpt)) WriteJsonLine(new Dictionary<string, object> { ["collections"] = rows });
            else
                foreach (var row in rows)
                    Console.Out.WriteLine(string.Join("  ", row.Select(kv => $"{kv.Key}={kv.Value}")));
            return 0;
        }));
        return cmd;
    }
}
