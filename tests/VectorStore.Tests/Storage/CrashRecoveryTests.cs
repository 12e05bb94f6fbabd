using System.Diagnostics;
using System.Text;
using VectorStore.Collections;
using VectorStore.IO;
using Xunit;
using Xunit.Abstractions;

namespace VectorStore.Tests.Storage;

/// <summary>
/// Spawns the real CLI (<c>vectorstore load</c> with concurrent writers) and kills it with SIGKILL at random moments.
/// After every kill: each acknowledged batch is present bit-identically with its payload, nothing that was never
/// written appears, and at the end the index still meets its recall floor. CI runs 3 rounds; the 20-round version is
/// <c>dotnet test tests/VectorStore.Tests -c Release --filter "FullyQualifiedName~CrashRecoveryTests&amp;Category=Long"</c>.
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output)
{
    private const int Rows = 6000, Dim = 32;

    [Fact]
    public void KilledLoadsLoseNoAcknowledgedBatch() => Run(rounds: 3, seed: 11);

    [Fact]
    [Trait("Category", "Long")]
    public void KilledLoadsLoseNoAcknowledgedBatchTwentyRounds() => Run(rounds: 20, seed: 12);

    /// <summary>
    /// The child checkpoints every 32 KiB of log or buffered vectors (background seals, and merges once segments
    /// accumulate or rows die), and every other round overwrites the ids of the round before: kills land during
    /// checkpoints and merges. Both residencies, and HNSW, whose checkpoints write change images against its index
    /// file (the final recall check walks the recovered graph).
    /// </summary>
    [Theory]
    [InlineData("disk", "flat")]
    [InlineData("ram", "flat")]
    [InlineData("disk", "hnsw:8")]
    public void KilledLoadsDuringCheckpointsAndMergesLoseNoAcknowledgedBatch(string residency, string index) =>
        Run(rounds: 4, seed: 13, checkpointBytes: 32 << 10, residency: residency, index: index);

    private void Run(int rounds, int seed, int checkpointBytes = 0, string? residency = null, string index = "flat")
    {
        var dir = TestData.TempDir();
        string db = Path.Combine(dir, "db");
        string file = Path.Combine(dir, "v.fvecs");
        var data = StorageTestKit.Vectors(Rows, Dim, seed);
        VectorFiles.WriteFvecs(file, data);
        string[] create = ["create", "--db", db, "--collection", "c", "--dim", $"{Dim}", "--metric", "l2", "--compression", "sq8", "--index", index, "--training-threshold", "1500"];
        Assert.Equal(0, Cli(residency is null ? create : [.. create, "--raw-vectors", residency], out _));
        var rng = new Random(seed);
        var acked = new List<(ulong First, ulong Last)>();
        int totalAcked = 0;
        for (int round = 0; round < rounds; round++)
        {
            // With checkpoints on, odd rounds overwrite the previous round's ids (same bytes): dead rows to merge away.
            ulong first = (ulong)((checkpointBytes > 0 && round % 2 == 1 ? round - 1 : round) * Rows);
            // Mostly kill while batches are being acknowledged (timed from the first ack, since start-up time varies
            // a lot on a loaded machine); sometimes kill during start-up and recovery.
            bool early = rng.Next(4) == 0;
            int delay = early ? rng.Next(0, 1500) : rng.Next(0, 400);
            var got = LoadAndKill(db, file, first, delay, early, checkpointBytes);
            acked.AddRange(got);
            totalAcked += got.Count;
            output.WriteLine($"round {round}: killed {delay} ms after {(early ? "start" : "the first ack")}, {got.Count} batches acked");
            using var opened = VectorDatabase.Open(db);
            var c = opened.GetCollection("c");
            Verify(c, data, acked, round);
            // Alternate between a clean close (snapshot + truncate) and a simulated crash of the verifier itself.
            if (round % 2 == 1) opened.SimulateCrash();
        }
        Assert.True(totalAcked > 0, "no batch was ever acknowledged: the kill delays are too short to test anything");
        using var final = VectorDatabase.Open(db);
        CheckRecall(final.GetCollection("c"), data);
    }

    private static void Verify(Collection c, VectorMatrix data, List<(ulong First, ulong Last)> acked, int round)
    {
        foreach (var (first, last) in acked)
            for (ulong id = first; id <= last; id++)
                AssertRow(c, data, id);
        foreach (var id in c.Ids())
        {
            // Only ids some round tried to write may exist, and with exactly the bytes that were written.
            Assert.True(id < (ulong)((round + 1) * Rows), $"id {id} was never written");
            AssertRow(c, data, id);
        }
    }

    private static void AssertRow(Collection c, VectorMatrix data, ulong id)
    {
        var r = c.Get(id);
        Assert.True(r is not null, $"acknowledged id {id} is missing");
        Assert.True(data.Row((int)(id % Rows)).SequenceEqual(r!.Vector), $"id {id}: vector is not bit-identical");
        Assert.Equal(Encoding.UTF8.GetBytes($"id:{id}"), r.Payload);
    }

    private void CheckRecall(Collection c, VectorMatrix data)
    {
        c.BuildIndex();
        var ids = c.Ids();
        var rng = new Random(5);
        int hits = 0, total = 0;
        for (int q = 0; q < 50; q++)
        {
            var query = data.Row(rng.Next(Rows)).ToArray();
            for (int d = 0; d < Dim; d++) query[d] += (float)(rng.NextDouble() * 0.2 - 0.1);
            var exact = ids.Select(id => (id, dist: VectorStore.Distance.Distances.Compute(DistanceKind.L2, query, c.Get(id)!.Vector)))
                .OrderBy(x => x.dist).Take(10).Select(x => x.id).ToHashSet();
            // A wide beam and a re-rank: what is checked is the recovered graph's reach, not what sq8 codes and
            // a default beam give on uniform random data (recall 0.85-0.93 at ef 64 without re-rank for hnsw:8: the
            // 0.85 floor failed once in CI at 0.844; 0.95-0.98 with these settings, 1.0 for flat).
            var got = c.Search(query, new SearchOptions { K = 10, Ef = 128, Rerank = 40 });
            hits += got.Count(h => exact.Contains(h.Id));
            total += 10;
        }
        double recall = (double)hits / total;
        output.WriteLine($"recall@10 after recovery: {recall:F3} over {ids.Length} vectors");
        Assert.True(recall >= 0.90, $"recall@10 {recall:F3} after recovery is below the 0.90 floor");
    }

    private static List<(ulong, ulong)> LoadAndKill(string db, string file, ulong first, int delayMs, bool fromStart, int checkpointBytes)
    {
        using var firstAck = new ManualResetEventSlim(fromStart);
        var psi = CliStart(["load", "--db", db, "--collection", "c", "--vectors", file, "--first-id", $"{first}", "--batch", "50", "--writers", "3", "--payload-ids"]);
        if (checkpointBytes > 0) psi.Environment["VECTORSTORE_CHECKPOINT_BYTES"] = $"{checkpointBytes}";
        using var p = Process.Start(psi)!;
        var lines = new List<string>();
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (lines) lines.Add(e.Data);
            firstAck.Set();
        };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (lines) lines.Add("stderr: " + e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        firstAck.Wait(TimeSpan.FromSeconds(120));
        if (!p.WaitForExit(delayMs)) p.Kill(entireProcessTree: true);
        p.WaitForExit();
        var acked = new List<(ulong, ulong)>();
        lock (lines)
        {
            foreach (var line in lines)
            {
                // A load that finishes before the kill ends with its summary line on stderr; anything else there is an error.
                if (line.StartsWith("stderr: ", StringComparison.Ordinal) && !line.StartsWith("stderr: loaded ", StringComparison.Ordinal))
                    throw new Xunit.Sdk.XunitException($"load wrote to stderr: {line}");
                var parts = line.Split(' ');
                if (parts.Length == 3 && parts[0] == "acked") acked.Add((ulong.Parse(parts[1]), ulong.Parse(parts[2])));
            }
        }
        return acked;
    }

    private static int Cli(string[] args, out string stdout)
    {
        (int code, stdout, _) = ChildProcess.Run(CliStart(args));
        return code;
    }

    internal static ProcessStartInfo CliStart(string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "vectorstore.dll");
        Assert.True(File.Exists(dll), $"{dll} not found: the test project references the CLI so it is copied here");
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }
}
