using System.CommandLine;
using VectorStore.Client;

namespace VectorStore.Cli.Commands;

/// <summary>
/// <c>backup (--db DIR | --server HOST:PORT) --to PATH|NAME [--since PATH|NAME] [--verify] [--json]</c>: a copy of the
/// database that opens on its own, taken while it serves (<see cref="VectorDatabase.Backup(string, BackupOptions?, CancellationToken)"/>;
/// through a server, into NAME under its <c>--backup-dir</c>); with <c>--since</c>, files a previous backup holds
/// unchanged are hard-linked. Prints <c>backed up NAME COUNT BYTES</c> per collection (and <c>LINKED</c> with
/// <c>--since</c>) and <c>backup DIR</c>, or one JSON line.
/// </summary>
public sealed class BackupCommand : CliCommand
{
    public override Command Build()
    {
        var toOpt = Opt<string>("--to", "With --db: a new or empty directory for the backup. With --server: a new directory's name under the server's --backup-dir", required: true);
        var sinceOpt = Opt<string>("--since", "A previous backup (with --server: its name under the server's --backup-dir): files it holds unchanged are hard-linked, not copied");
        var verifyOpt = Opt<bool>("--verify", "Then open the backup read-only here, check each collection's count and read every stored vector and payload against its checksum (with --server, when the backup's directory is visible from this machine)");
        var jsonOpt = Opt<bool>("--json", "Print one JSON line");
        var cmd = new Command("backup", "Back up a database while it serves: every acknowledged write, no log to replay; the copy opens on its own")
        {
            toOpt, sinceOpt, verifyOpt, jsonOpt,
        };
        var target = new DatabaseTarget().AddTo(cmd);
        cmd.SetAction(r => Guard(() => target.Run(r, db => BackupAsync(db, r.GetValue(toOpt)!, r.GetValue(sinceOpt), r.GetValue(verifyOpt), r.GetValue(jsonOpt), Console.Out, Console.Error))));
        return cmd;
    }

    /// <summary>Backs <paramref name="db"/> up into <paramref name="to"/>, verifies the copy when asked, and prints what was written.</summary>
    public static async Task BackupAsync(IVectorDatabaseClient db, string to, string? since, bool verify, bool json, TextWriter stdout, TextWriter stderr)
    {
        var result = db switch
        {
            InProcessDatabaseClient local => await local.Database.BackupAsync(to, new BackupOptions { Since = since }).ConfigureAwait(false),
            VectorStoreClient remote when to.IndexOfAny(['/', '\\']) >= 0 =>
                throw new UsageException($"--to {to}: with --server, name a directory under the server's --backup-dir (no separators); the server decides where backups go"),
            VectorStoreClient remote when since is not null && since.IndexOfAny(['/', '\\']) >= 0 =>
                throw new UsageException($"--since {since}: with --server, name a previous backup under the server's --backup-dir (no separators)"),
            VectorStoreClient remote => await remote.BackupAsync(to, since).ConfigureAwait(false),
            _ => throw new UsageException($"backup is not available through {db.GetType().Name}"),
        };
        if (verify) Verify(result);
        if (since is not null && result.LinkedBytes == 0 && result.Bytes > 0)
            stderr.WriteLine($"warning: nothing was linked from {since}: it holds none of these files unchanged, or it is on another file system than the backup (then every file is copied)");
        foreach (var name in result.SkippedDamaged)
            stderr.WriteLine($"warning: collection '{name}' was set aside as damaged when the database opened and is not in the backup");
        stderr.Flush();
        if (json)
        {
            WriteJsonLine(stdout, new Dictionary<string, object?>
            {
                ["directory"] = result.Directory,
                ["collections"] = result.Collections.Select(c => new Dictionary<string, object?> { ["name"] = c.Name, ["count"] = c.Count, ["bytes"] = c.Bytes, ["linked_bytes"] = c.LinkedBytes }).ToList(),
                ["skipped_damaged"] = result.SkippedDamaged.ToArray(),
                ["bytes"] = result.Bytes,
                ["linked_bytes"] = result.LinkedBytes,
                ["verified"] = verify,
            });
            return;
        }
        foreach (var c in result.Collections) stdout.WriteLine($"backed up {c.Name} {c.Count} {c.Bytes}{(since is null ? "" : $" {c.LinkedBytes}")}");
        var notes = new List<string>();
        if (since is not null) notes.Add($"{result.LinkedBytes} of {result.Bytes} bytes linked from {since}");
        if (verify) notes.Add("verified");
        if (result.SkippedDamaged.Count > 0) notes.Add($"left out as damaged: {string.Join(", ", result.SkippedDamaged)}");
        stdout.WriteLine($"backup {result.Directory}{(notes.Count > 0 ? $" ({string.Join("; ", notes)})" : "")}");
        stdout.Flush();
    }

    /// <summary>
    /// Opens the backup read-only (every check of an open: snapshots, segments' row tables, index files), compares the
    /// counts and reads every stored vector and payload, each checked against its own CRC: an open does not read the
    /// rows, so a damaged row (copied from a damaged source, or linked from a damaged previous backup) passed before.
    /// </summary>
    private static void Verify(BackupResult result)
    {
        if (!Directory.Exists(result.Directory))
            throw new UsageException($"--verify: the backup was written to {result.Directory} on the server's machine, which is not visible here; run 'vectorstore info --db {result.Directory} --read-only' there");
        using var copy = VectorDatabase.OpenReadOnly(result.Directory);
        foreach (var c in result.Collections) EveryRowCheck.Run(copy, result.Directory, c.Name, c.Count, "backup verification");
    }
}
