using System.Text.Json.Nodes;
using VectorStore.Tests.Protocol;
using VectorStore.Tests.Storage;
using Xunit;

namespace VectorStore.Tests.Cli;

/// <summary>
/// <c>vectorstore backup</c>: locally (<c>--db</c>, any new or empty directory) and through a running <c>serve
/// --backup-dir</c> (<c>--server</c>, a name under that directory) while a client writes; its text and JSON output,
/// <c>--verify</c>, and the refusals a user meets (a non-empty target, a path where a name is needed, a backup
/// directory inside the database).
/// </summary>
public sealed class BackupCliTests
{
    private const int Dim = 16;

    private static string Database(int rows)
    {
        var dir = TestData.TempDir();
        using var db = VectorDatabase.Open(dir, new DatabaseOptions { CheckpointWhenIdle = TimeSpan.Zero });
        StorageTestKit.Load(db.CreateCollection("c", StorageTestKit.Options(Dim)), StorageTestKit.Vectors(rows, Dim, 3), 0, 250);
        return dir;
    }

    /// <summary>
    /// <c>--verify</c> reads every row: a vector row damaged in the source's segment (which an open does not read) is
    /// copied as it is, and the verification fails naming the backup's file instead of printing "verified".
    /// </summary>
    [Fact]
    public void VerifyReadsEveryRowAndNamesADamagedSegment()
    {
        string db = Database(1000);
        using (var d = VectorDatabase.Open(db, new DatabaseOptions { CheckpointWhenIdle = TimeSpan.Zero })) d.Compact("c");
        string segment = Directory.GetFiles(Path.Combine(db, "collections", "c"), "seg-*.vsg").OrderByDescending(f => new FileInfo(f).Length).First();
        Storage.CorruptionMatrixTests.Damage(segment, "flip-middle"); // inside a vector row
        string target = Path.Combine(TestData.TempDir(), "copy");
        var (code, stdout, stderr) = CliRunner.Run("backup", "--db", db, "--to", target, "--verify");
        Assert.Equal(2, code);
        Assert.DoesNotContain("verified", stdout);
        Assert.Contains(Path.Combine(target, "collections", "c", Path.GetFileName(segment)), stderr);
    }

    [Fact]
    public void ALocalBackupPrintsWhatItWroteAndVerifies()
    {
        string db = Database(1000);
        string target = Path.Combine(TestData.TempDir(), "copy");
        var (code, stdout, stderr) = CliRunner.Run("backup", "--db", db, "--to", target, "--verify");
        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^backed up c 1000 \d+$", lines[0]);
        Assert.Equal($"backup {target} (verified)", lines[1]);

        string second = Path.Combine(TestData.TempDir(), "json");
        (code, stdout, stderr) = CliRunner.Run("backup", "--db", db, "--to", second, "--json");
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout)!;
        Assert.Equal(second, (string)json["directory"]!);
        Assert.Equal(1000, (long)json["collections"]![0]!["count"]!);
        Assert.Equal((long)json["collections"]![0]!["bytes"]!, (long)json["bytes"]!);
        Assert.Empty(json["skipped_damaged"]!.AsArray());
        Assert.False((bool)json["verified"]!);

        (code, _, stderr) = CliRunner.Run("backup", "--db", db, "--to", target);
        Assert.Equal(1, code);
        Assert.Contains("exists and is not empty", stderr);
    }

    [Fact]
    public void AnIncrementalBackupSaysWhatItLinked()
    {
        if (!OperatingSystem.IsLinux()) return; // hard links
        string db = Database(1000);
        string parent = TestData.TempDir(), first = Path.Combine(parent, "first"), second = Path.Combine(parent, "second"), third = Path.Combine(parent, "third");
        var (code, _, stderr) = CliRunner.Run("backup", "--db", db, "--to", first);
        Assert.True(code == 0, stderr);
        (code, var stdout, stderr) = CliRunner.Run("backup", "--db", db, "--to", second, "--since", first, "--json", "--verify");
        Assert.True(code == 0, stderr);
        var json = JsonNode.Parse(stdout)!;
        long linked = (long)json["linked_bytes"]!, bytes = (long)json["bytes"]!;
        Assert.True(linked > 0 && linked < bytes, stdout);
        Assert.Equal(linked, (long)json["collections"]![0]!["linked_bytes"]!);
        Assert.True((bool)json["verified"]!);

        (code, stdout, stderr) = CliRunner.Run("backup", "--db", db, "--to", third, "--since", second);
        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^backed up c 1000 \d+ \d+$", lines[0]);
        Assert.Matches($@"^backup {System.Text.RegularExpressions.Regex.Escape(third)} \(\d+ of \d+ bytes linked from {System.Text.RegularExpressions.Regex.Escape(second)}\)$", lines[1]);

        Assert.DoesNotContain("nothing was linked", stderr);

        // A previous backup of another database shares nothing: said on stderr, and the backup is whole.
        string other = Path.Combine(TestData.TempDir(), "other");
        Assert.Equal(0, CliRunner.Run("backup", "--db", Database(10), "--to", other).Code);
        (code, _, stderr) = CliRunner.Run("backup", "--db", db, "--to", Path.Combine(parent, "fifth"), "--since", other, "--verify");
        Assert.True(code == 0, stderr);
        Assert.Contains($"warning: nothing was linked from {other}", stderr);

        (code, _, stderr) = CliRunner.Run("backup", "--db", db, "--to", Path.Combine(parent, "fourth"), "--since", Path.Combine(parent, "nope"));
        Assert.Equal(1, code);
        Assert.Contains("no such directory", stderr);
    }

    /// <summary>A database another open holds (a running <c>serve</c>, usually) points at <c>--server</c>, and nothing is written.</summary>
    [Fact]
    public void ADatabaseHeldElsewherePointsAtServer()
    {
        string db = Database(100);
        string target = Path.Combine(TestData.TempDir(), "copy");
        using (VectorDatabase.Open(db))
        {
            var (code, _, stderr) = CliRunner.Run("backup", "--db", db, "--to", target);
            Assert.NotEqual(0, code);
            Assert.Contains("the database is open elsewhere", stderr);
            Assert.Contains("run the command through it with --server HOST:PORT instead of --db", stderr);
        }
        Assert.False(Directory.Exists(target));
    }

    [Fact]
    public async Task ThroughAServerTheBackupGoesUnderItsBackupDirectoryWhileAClientWrites()
    {
        string db = Database(1000);
        string backups = Path.Combine(TestData.TempDir(), "backups");
        string token = Path.Combine(TestData.TempDir(), "token");
        File.WriteAllText(token, "backup-test-token");
        string[] auth = ["--token-file", token];

        // A backup directory inside the database is refused before the server starts.
        var (code, _, stderr) = CliRunner.Run("serve", "--db", db, "--port", "0", "--token-file", token, "--backup-dir", Path.Combine(db, "bk"));
        Assert.Equal(1, code);
        Assert.Contains("inside the database directory", stderr);

        var server = await ServeProcess.StartAsync(db, token, "--backup-dir", backups);
        try
        {
            await using var client = await server.ConnectAsync();
            var rows = StorageTestKit.Vectors(4000, Dim, 9);
            using var stop = new CancellationTokenSource();
            int acked = 0;
            var writer = Task.Run(async () =>
            {
                for (int b = 0; b < 40 && !stop.IsCancellationRequested; b++)
                {
                    var ids = Enumerable.Range(10_000 + b * 100, 100).Select(i => (ulong)i).ToArray();
                    await client.UpsertBatchAsync("c", ids, rows.Slice(b * 100, 100));
                    Volatile.Write(ref acked, b + 1);
                }
            });
            while (Volatile.Read(ref acked) < 3 && !writer.IsCompleted) await Task.Delay(5);
            int before = Volatile.Read(ref acked);

            (code, var stdout, stderr) = CliRunner.Run(["backup", "--server", server.Address, .. auth, "--to", "nightly", "--verify"]);
            Assert.True(code == 0, stderr);
            Assert.EndsWith($"backup {Path.Combine(backups, "nightly")} (verified)", stdout.Trim());
            stop.Cancel();
            await writer;

            using (var copy = VectorDatabase.OpenReadOnly(Path.Combine(backups, "nightly")))
            {
                var c = copy.GetCollection("c");
                Assert.True(c.Count >= 1000 + before * 100, $"backup has {c.Count}, {1000 + before * 100} were acknowledged before it");
                Assert.Equal(0, c.Count % 100);
                for (int i = 0; i < (c.Count - 1000) / 100 * 100; i++)
                    Assert.True(rows.Row(i).SequenceEqual(c.Get(10_000 + (ulong)i)!.Vector), $"id {10_000 + i} differs");
            }

            (code, _, stderr) = CliRunner.Run(["backup", "--server", server.Address, .. auth, "--to", Path.Combine(backups, "x")]);
            Assert.Equal(1, code);
            Assert.Contains("with --server, name a directory under the server's --backup-dir", stderr);
            (code, _, stderr) = CliRunner.Run(["backup", "--server", server.Address, .. auth, "--to", "nightly"]);
            Assert.Equal(1, code);
            Assert.Contains("exists and is not empty", stderr);
            // The database is the server's: a local backup cannot open it.
            (code, _, stderr) = CliRunner.Run("backup", "--db", db, "--to", Path.Combine(TestData.TempDir(), "y"));
            Assert.NotEqual(0, code);
            Assert.Contains("lock", stderr, StringComparison.OrdinalIgnoreCase);
            Assert.Equal(["nightly"], Directory.GetFileSystemEntries(backups).Select(Path.GetFileName));
        }
        finally
        {
            Assert.Equal(0, await server.TerminateAsync());
        }
    }
}
