using System.CommandLine;

namespace VectorStore.Cli.Commands;

/// <summary><c>compact</c>: snapshot + log truncation, reclaiming deleted and overwritten records.</summary>
public sealed class CompactCommand : CliCommand
{
    public override Command Build()
    {
        var nameOpt = Opt<string>("--collection", "Collection name", required: true);
        var jsonOpt = Opt<bool>("--json", "Print one JSON line");
        var cmd = new Command("compact", "Reclaim disk space of deleted and overwritten vectors") { nameOpt, jsonOpt };
        var target = new DatabaseTarget().AddTo(cmd);
        cmd.SetAction(r => Guard(() => target.Run(r, db => CompactAsync(db, r.GetValue(nameOpt)!, r.GetValue(jsonOpt), Console.Out))));
        return cmd;
    }

    /// <summary>
    /// Compacts <paramref name="collection"/> and prints its bytes on disk before and after (a server compacts every
    /// collection with changes: see <see cref="IVectorDatabaseClient.CompactAsync"/>).
    /// </summary>
    public static async Task CompactAsync(IVectorDatabaseClient db, string collection, bool json, TextWriter stdout)
    {
        long before = await BytesOnDiskAsync(db, collection).ConfigureAwait(false);
        await db.CompactAsync(collection).ConfigureAwait(false);
        long after = await BytesOnDiskAsync(db, collection).ConfigureAwait(false);
        if (json) WriteJsonLine(stdout, new Dictionary<string, object?> { ["collection"] = collection, ["bytes_before"] = before, ["bytes_after"] = after });
        else stdout.WriteLine($"{collection}: {before} -> {after} bytes on disk");
        stdout.Flush();
    }

    private static async Task<long> BytesOnDiskAsync(IVectorDatabaseClient db, string collection) =>
        (await db.GetInfoAsync(collection).ConfigureAwait(false)).BytesOnDisk
        ?? throw new VectorStoreException("the server speaks protocol version 1, which does not report bytes on disk");
}
