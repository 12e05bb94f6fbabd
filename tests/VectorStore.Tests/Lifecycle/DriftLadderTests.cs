using VectorStore.Collections;
using VectorStore.Lifecycle;
using Xunit;

namespace VectorStore.Tests.Lifecycle;

/// <summary>
/// The drift ladder end to end on synthetic data: a collection trained on one distribution receives a shifted one;
/// its sensors fire, the ladder trains a candidate on the data as it now is, canaries it on live queries and promotes
/// it through the gate — and every step is in the drift report.
/// </summary>
public sealed class DriftLadderTests
{
    private const int Dim = 16;

    private static VectorMatrix Cloud(int count, int seed, float shift, float scale)
    {
        var rng = new Random(seed);
        var m = new VectorMatrix(count, Dim);
        for (int i = 0; i < count; i++)
            for (int d = 0; d < Dim; d++)
                m[i][d] = (float)((rng.NextDouble() * 2 - 1) * scale + (d < 4 ? shift : 0));
        return m;
    }

    [Fact]
    public async Task ShiftedInsertsFireTheSensorsAndTheLadderPromotesARetrainedGeneration()
    {
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", new CollectionOptions { Dimension = Dim, Metric = Metric.L2, Compression = "sq8", TrainingThreshold = 10_000 });
        var trained = Cloud(10_000, 1, 0, 1);
        c.UpsertBatch(Enumerable.Range(0, 10_000).Select(i => (ulong)i).ToArray(), trained);
        Assert.False(c.Drift().Drifted);
        Assert.NotEmpty(c.Drift().Signals);
        c.Policy = new LifecyclePolicy
        {
            BuildCandidateOnDrift = true, PromoteWhenGatePasses = true, CanaryRate = 1,
            Gate = new PromotionGate { MinExactQueries = 30, MaxRecallLoss = 0.01, MaxP99Factor = 1000 },
        };
        // The new data lies mostly outside the trained int8 ranges.
        var shifted = Cloud(6000, 2, 3, 2);
        for (int b = 0; b < 12; b++)
        {
            var ids = Enumerable.Range(10_000 + b * 500, 500).Select(i => (ulong)i).ToArray();
            c.UpsertBatch(ids, new VectorMatrix(shifted.Data.AsSpan(b * 500 * Dim, 500 * Dim).ToArray(), Dim));
        }
        var report = c.Drift();
        Assert.True(report.Drifted, "shifted inserts did not fire any sensor: " + string.Join(", ", report.Signals.Select(s => $"{s.Name} {s.Value}/{s.Threshold}")));
        Assert.Contains(report.Signals, s => s.Name == "clip_rate" && s.Fired);
        // The ladder's candidate: wait for it, then serve queries so its canary can judge it.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (c.Generations().Count < 2 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(2, c.Generations().Count);
        await c.WaitForGeneration(2);
        var queries = Cloud(400, 3, 3, 2);
        for (int i = 0; c.LiveGeneration == 1 && DateTime.UtcNow < deadline; i++)
        {
            c.Search(queries.Row(i % queries.Count), new SearchOptions { K = 10 });
            if (i % 50 == 49) await c.DrainCanary();
        }
        Assert.Equal(2, c.LiveGeneration);
        // The ladder notes its promotion just after the switch itself.
        while (!c.Drift().Actions.Any(a => a.Contains("promoted generation 2", StringComparison.Ordinal)) && DateTime.UtcNow < deadline) await Task.Delay(10);
        var actions = c.Drift().Actions;
        Assert.Contains(actions, a => a.Contains("drift on generation 1", StringComparison.Ordinal));
        Assert.Contains(actions, a => a.Contains("training candidate generation 2", StringComparison.Ordinal));
        Assert.Contains(actions, a => a.Contains("promoted generation 2", StringComparison.Ordinal));
        // The retrained generation's ranges cover the new data: its sensors start from a baseline that includes it.
        Assert.Equal(2, c.Drift().Generation);
    }

    /// <summary>
    /// A crash while the ladder trains its candidate: the reopened collection replays the shifted batches, and its
    /// sensors take them in, but nothing acts on them until the open is over. The ladder declared another generation
    /// from inside the replay, appending to the log while it was recovered: the open refused the log (a user pass,
    /// `kill -9` of `serve` during a drift-triggered build, 3 of 3 runs), and once lost acknowledged writes.
    /// </summary>
    [Fact]
    public async Task AReplayedDriftDoesNotMoveTheLadderDuringTheOpen()
    {
        var dir = TestData.TempDir();
        var policy = new LifecyclePolicy { BuildCandidateOnDrift = true, BuildVectorsPerSecond = 200 };
        var shifted = Cloud(6000, 2, 3, 2);
        using (var db = VectorStore.Tests.Storage.StorageTestKit.Open(dir))
        {
            var c = db.CreateCollection("c", new CollectionOptions { Dimension = Dim, Metric = Metric.L2, Compression = "sq8", TrainingThreshold = 10_000 });
            c.UpsertBatch(Enumerable.Range(0, 10_000).Select(i => (ulong)i).ToArray(), Cloud(10_000, 1, 0, 1));
            c.Policy = policy;
            db.Snapshot();
            for (int b = 0; b < 12; b++)
            {
                var ids = Enumerable.Range(10_000 + b * 500, 500).Select(i => (ulong)i).ToArray();
                c.UpsertBatch(ids, new VectorMatrix(shifted.Data.AsSpan(b * 500 * Dim, 500 * Dim).ToArray(), Dim));
            }
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (c.Generations().Count < 2 && DateTime.UtcNow < deadline) await Task.Delay(20);
            Assert.Equal(2, c.Generations().Count); // declared by the ladder; its throttled build still runs
            VectorStore.Tests.Storage.StorageTestKit.Crash(db);
        }
        using (var db = VectorStore.Tests.Storage.StorageTestKit.Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(16_000, c.Count);
            Assert.Equal([1, 2], c.Generations().Select(g => g.Generation).Order());
            Assert.True(c.Drift().Drifted, "the replayed batches did not reach the sensors");
            // The ladder's step is not persisted: at its next reading it judges the candidate being rebuilt instead
            // of training one more beside it.
            var more = Cloud(1000, 4, 3, 2);
            c.UpsertBatch(Enumerable.Range(16_000, 1000).Select(i => (ulong)i).ToArray(), more);
            Assert.Contains(c.Drift().Actions, a => a.Contains("candidate generation 2 (sq8, flat) is already declared", StringComparison.Ordinal));
            Assert.Equal([1, 2], c.Generations().Select(g => g.Generation).Order());
        }
        using (var db = VectorStore.Tests.Storage.StorageTestKit.Open(dir))
            Assert.Equal(17_000, db.GetCollection("c").Count);
    }
}
