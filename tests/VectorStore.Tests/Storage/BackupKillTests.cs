using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;
using static VectorStore.Tests.Storage.StorageTestKit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// <c>vectorstore backup</c> killed with SIGKILL at random moments (during its open, the checkpoint of writes only in
/// the log, or the copy): the source keeps every acknowledged write bit-identical, and the backup's directory either
/// does not exist or opens whole; a killed backup leaves at most a hidden <c>.NAME.partial-*</c> directory beside it.
/// Rounds: <c>VECTORSTORE_BACKUP_KILL_ROUNDS</c> (default 6).
/// </summary>
public sealed class BackupKillTests(ITestOutputHelper output)
{
    private const int Dim = 32, Batch = 2_000;

    // The CLI opens with the default log settings, so the test does too (not StorageTestKit.Small's pages).
    private static VectorDatabase Open(string dir) => VectorDatabase.Open(dir, new DatabaseOptions { CheckpointWhenIdle = TimeSpan.Zero });

    [Fact]
    public async Task AKilledBackupLosesNothingAndLeavesNoHalfBackup()
    {
        int rounds = int.TryParse(Environment.GetEnvironmentVariable("VECTORSTORE_BACKUP_KILL_ROUNDS"), out int r) && r > 0 ? r : 6;
        var dir = TestData.TempDir();
        var parent = TestData.TempDir();
        var rows = Vectors(Batch * (rounds + 2), Dim, 5);
        using (var db = Open(dir))
        {
            Load(db.CreateCollection("a", Options(Dim)), rows.Slice(0, Batch * 2), 0, 500);
            Load(db.CreateCollection("b", Options(Dim, compression: "pq:8x4")), rows.Slice(0, Batch), 0, 500);
        }
        var rng = new Random(17);
        int complete = 0, whole = 0;
        for (int round = 0; round < rounds; round++)
        {
            // A batch acknowledged and left in the log only (the crash skips the close's checkpoint), so the backup's
            // checkpoint has work to be killed in.
            int first = Batch * (round + 2);
            var db = Open(dir);
            Load(db.GetCollection("a"), rows.Slice(first, Batch), (ulong)first, 500);
            Crash(db);

            string target = Path.Combine(parent, $"b{round}");
            // Round 0 runs to its end and times a whole backup; later rounds are killed somewhere within that time.
            int delay = round == 0 ? 120_000 : rng.Next(whole / 4, whole + 1);
            var psi = CrashRecoveryTests.CliStart(["backup", "--db", dir, "--to", target]);
            using (var p = Process.Start(psi)!)
            {
                var stdout = p.StandardOutput.ReadToEndAsync();
                var stderr = p.StandardError.ReadToEndAsync();
                var clock = Stopwatch.StartNew();
                bool killed = !p.WaitForExit(delay);
                if (round == 0) whole = (int)clock.ElapsedMilliseconds;
                if (killed) p.Kill(entireProcessTree: true);
                Assert.True(p.WaitForExit(TimeSpan.FromMinutes(2)), "backup did not exit");
                await Task.WhenAll(stdout, stderr);
                output.WriteLine($"round {round}: {(killed ? $"killed after {delay} ms" : $"finished within {delay} ms, exit {p.ExitCode}")}");
                if (!killed) Assert.True(p.ExitCode == 0, $"backup failed: {await stderr}");
            }

            // The source: every acknowledged batch, bit-identical.
            using (var source = Open(dir))
            {
                AssertHas(source.GetCollection("a"), rows.Slice(0, first + Batch), 0, first + Batch);
                Assert.Equal(first + Batch, source.GetCollection("a").Count);
                Assert.Equal(Batch, source.GetCollection("b").Count);
            }
            // The backup: absent, or whole.
            if (Directory.Exists(target))
            {
                using var copy = VectorDatabase.OpenReadOnly(target);
                AssertHas(copy.GetCollection("a"), rows.Slice(0, first + Batch), 0, first + Batch);
                Assert.Equal(first + Batch, copy.GetCollection("a").Count);
                Assert.Equal(Batch, copy.GetCollection("b").Count);
                complete++;
            }
            foreach (var entry in Directory.GetFileSystemEntries(parent).Select(Path.GetFileName))
                Assert.Matches(@"^(b\d+|\.b\d+\.partial-[0-9a-f]{32})$", entry);
            // A partial directory is empty (killed before its marker was written) or refused by an open and by recover
            // (it may lack collections), naming its marker.
            foreach (var leftover in Directory.GetDirectories(parent, ".*"))
            {
                if (!Directory.EnumerateFileSystemEntries(leftover).Any()) continue;
                var refused = Assert.Throws<StoreCorruptedException>(() => VectorDatabase.RecoverManifest(leftover));
                Assert.Equal(Path.Combine(leftover, "BACKUP-PARTIAL"), refused.Path);
                Assert.Throws<StoreCorruptedException>(() => VectorDatabase.OpenReadOnly(leftover));
            }
        }
        int partial = Directory.GetDirectories(parent, ".*").Length;
        output.WriteLine($"{complete} of {rounds} backups completed before their kill; {partial} killed while copying (a partial directory left)");
    }
}
