using System.CommandLine;

namespace VectorStore.Cli.Commands;

/// <summary><c>info</c>: collections of a database with sizes and settings.</summary>
public sealed class InfoCommand : CliCommand
{
    public override Command Build()
    {
        var nameOpt = Opt<string?>("--collection", "Only this collection");
        var jsonOpt = Opt<bool>("--json", "Print one JSON object");
        var cmd = new Command("info", "Describe the collections of a database directory") { nameOpt, jsonOpt };
        var target = new DatabaseTarget().AddTo(cmd).WithReadOnly(cmd);
        cmd.SetAction(r => Guard(() => target.Run(r, db => InfoAsync(db, r.GetValue(nameOpt), Console.Out, r.GetValue(jsonOpt)))));
        return cmd;
    }

    /// <summary>
    /// Prints every collection (or only <paramref name="collection"/>) through <see cref="DatabaseOutput.WriteInfo"/>.
    /// <c>bytes_on_disk</c> is null only from a protocol-version-1 server, which does not report it.
    /// </summary>
    public static async Task InfoAsync(IVectorDatabaseClient db, string? collection, TextWriter stdout, bool json = true)
    {
        var names = collection is null ? await db.CollectionNamesAsync().ConfigureAwait(false) : [collection];
        var rows = new List<Dictionary<string, object?>>();
        foreach (var name in names)
        {
            var info = await db.GetInfoAsync(name).ConfigureAwait(false);
            rows.Add(DatabaseOutput.InfoRow(name, info.Options, info.Stats, info.BytesOnDisk));
        }
        DatabaseOutput.WriteInfo(rows, json, stdout);
    }
}
