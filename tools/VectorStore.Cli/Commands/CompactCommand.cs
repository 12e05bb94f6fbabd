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
        cmd.SetAction(r => Guard(() => target.Run(r, db => CompactAsync(db, r.GetValue(nameOpt)!, r.GetValue(jsonOpt), Console.Out, Console.Error))));
        return cmd;
    }

    /// <summary>
    /// Compacts <paramref name="collection"/> and prints its bytes on disk before and after (a server compacts every
    /// collection with changes: see <see cref="IVectorDatabaseClient.CompactAsync"/>); when the collection grew, a
    /// note on <paramref name="stderr"/> says why it can.
    /// </summary>
    public static async Task CompactAsync(IVectorDatabaseClient db, string collection, bool json, TextWriter stdout, TextWriter? stderr = null)
    {
        long before = await BytesOnDiskAsync(db, collection).ConfigureAwait(false);
        await db.CompactAsync(collection).ConfigureAwait(false);
        long after = await BytesOnDiskAsync(db, collection).ConfigureAwait(false);
        if (json) WriteJsonLine(stdout, new Dictionary<string, object?> { ["collection"] = collection, ["bytes_before"] = before, ["bytes_after"] = after });
        else stdout.WriteLine($"{collection}: {before} -> {after} bytes on disk");
        stdout.Flush();
        // Both figures are true, and growth is no fault: the log holds vectors compactly (LZ4 where that helps) and no
        // index, a snapshot full-precision segments, the index and the slot table. Right after a load through a server
        // (which checkpoints once writes pause) or a crash, writes may be only in the log; a local load's close writes
        // the snapshot, so there the growth shows at load time. Said, so that the numbers are not read as compaction
        // wasting space.
        if (after > before && stderr is not null)
        {
            stderr.WriteLine($"note: '{collection}' grew by {after - before} bytes: compaction wrote a snapshot of what was only in the " +
                "write-ahead log (full-precision segments, the index, the slot table) and released the log, which holds vectors more " +
                "compactly (LZ4 where that helps) and no index; the next checkpoint (once writes pause, or on close) would have done the same");
            stderr.Flush();
        }
    }

    private static async Task<long> BytesOnDiskAsync(IVectorDatabaseClient db, string collection) =>
        (await db.GetInfoAsync(collection).ConfigureAwait(false)).BytesOnDisk
        ?? throw new VectorStoreException("the server speaks protocol version 1, which does not report bytes on disk");
}
