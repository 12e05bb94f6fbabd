using System.Diagnostics;
using VectorStore.Collections;
using VectorStore.Lifecycle;
using Xunit;
using Xunit.Abstractions;

namespace VectorStore.Tests.Lifecycle;

/// <summary>
/// Promote and rollback under concurrent writes, with <c>kill -9</c> of the real child process at random moments
/// (<see cref="LifecycleChild"/>): after every restart exactly one generation is live — the last one acknowledged or
/// one whose switch was in flight — every acknowledged write is present bit-identically, and the live generation
/// answers. CI runs 4 rounds; the 20 rounds of issue 16:
/// <c>dotnet test tests/VectorStore.Tests -c Release --filter "FullyQualifiedName~LifecycleKillTests&amp;Category=Long"</c>.
/// </summary>
public sealed class LifecycleKillTests(ITestOutputHelper output)
{
    [Fact]
    public void KilledDuringPromoteAndRollbackKeepsOneLiveGenerationAndEveryWrite() => Run(rounds: 4, seed: 21);

    [Fact]
    [Trait("Category", "Long")]
    public void KilledDuringPromoteAndRollbackTwentyRounds() => Run(rounds: 20, seed: 22);

    private void Run(int rounds, int seed)
    {
        var dir = TestData.TempDir();
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.CreateCollection("c", new CollectionOptions { Dimension = LifecycleChild.Dim, Metric = Metric.L2, Compression = "sq8", TrainingThreshold = 200 });
            var ids = Enumerable.Range(0, 2000).Select(i => (ulong)i).ToArray();
            c.UpsertBatch(ids, new VectorMatrix(ids.SelectMany(id => LifecycleChild.Data(id).Data).ToArray(), LifecycleChild.Dim));
        }
        var acked = new List<(ulong First, ulong Last)> { (0, 1999) };
        var rng = new Random(seed);
        int switches = 0;
        double worstSwitchMs = 0;
        for (int round = 0; round < rounds; round++)
        {
            ulong first = (ulong)(1_000_000 * (round + 1));
            var (lines, _) = RunAndKill(dir, first, rng.Next(300, 2500));
            int? lastLive = null;
            var inFlight = new HashSet<string>();
            foreach (var line in lines)
            {
                var parts = line.Split(' ');
                switch (parts[0])
                {
                    case "ack":
                        acked.Add((ulong.Parse(parts[1]), ulong.Parse(parts[2])));
                        break;
                    case "try":
                        inFlight.Add(parts[1]);
                        break;
                    case "live":
                        lastLive = int.Parse(parts[1]);
                        inFlight.Clear();
                        switches++;
                        worstSwitchMs = Math.Max(worstSwitchMs, double.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture));
                        break;
                }
            }
            using var db = VectorDatabase.Open(dir);
            var col = db.GetCollection("c");
            var generations = col.Generations();
            Assert.Single(generations, g => g.State == GenerationState.Live);
            int live = col.LiveGeneration;
            if (lastLive is { } l && !inFlight.Contains(live.ToString()) && !inFlight.Contains("rollback"))
                Assert.Equal(l, live);
            foreach (var (a, b) in acked)
                for (ulong id = a; id <= b; id++)
                {
                    var r = col.Get(id);
                    Assert.True(r is not null, $"round {round}: acknowledged id {id} is missing");
                    Assert.True(LifecycleChild.Data(id).Row(0).SequenceEqual(r!.Vector), $"round {round}: id {id} is not bit-identical");
                }
            var probe = acked[^1].Last;
            var hits = col.Search(LifecycleChild.Data(probe).Row(0), new SearchOptions { K = 1, Rerank = 500, NProbe = 8, Ef = 500 });
            Assert.Equal(probe, hits[0].Id);
            output.WriteLine($"round {round}: {lines.Count(x => x.StartsWith("ack"))} acks, live {live} (last acknowledged {lastLive?.ToString() ?? "-"}, in flight {string.Join(",", inFlight)}), generations {string.Join(" ", generations.Select(g => $"{g.Generation}:{g.State}"))}");
        }
        output.WriteLine($"{switches} acknowledged switches; slowest {worstSwitchMs:F1} ms (durable promote or rollback under write load)");
        Assert.True(switches > 0, "no promote or rollback was ever acknowledged: the kill delays are too short to test anything");
    }

    private static (List<string> Lines, int ExitCode) RunAndKill(string dir, ulong first, int delayMs)
    {
        var self = typeof(LifecycleKillTests).Assembly.Location;
        var psi = new ProcessStartInfo("dotnet", [self, "lifecycle-child", dir, first.ToString()])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        using var p = Process.Start(psi)!;
        var lines = new List<string>();
        using var started = new ManualResetEventSlim();
        var errors = new List<string>();
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (lines) lines.Add(e.Data);
            if (e.Data.StartsWith("live", StringComparison.Ordinal)) started.Set();
        };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (errors) errors.Add(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        // Time the kill from the first acknowledged switch, so every round kills amid promotes and rollbacks.
        started.Wait(TimeSpan.FromSeconds(120));
        if (!p.WaitForExit(delayMs)) p.Kill(entireProcessTree: true);
        p.WaitForExit();
        lock (errors)
            if (errors.Count > 0 && !p.HasExited) throw new Xunit.Sdk.XunitException("child: " + string.Join("\n", errors));
        lock (lines)
        {
            if (!started.IsSet) throw new Xunit.Sdk.XunitException("the child never acknowledged a switch: " + string.Join("\n", errors.Concat(lines.TakeLast(5))));
            return (lines.ToList(), p.ExitCode);
        }
    }
}
