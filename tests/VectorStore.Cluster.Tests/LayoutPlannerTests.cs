using VectorStore.Cluster.Layout;
using Xunit;

namespace VectorStore.Cluster.Tests;

[Trait("Category", "Cluster")]
public class LayoutPlannerTests
{
    private static readonly string[] s_three = ["a", "b", "c"];
    private static readonly CollectionSpec s_spec = new() { Dimension = 4, Compression = "none", Index = "flat", TrainingThreshold = 10, MaxTrainingSample = 10 };

    private static ClusterLayout Create(int shards = 6, int r = 2, string[]? silos = null) =>
        LayoutPlanner.Create("db", "c", s_spec, shards, r, silos ?? s_three, SlotHash.DefaultSlotCount);

    private static Dictionary<string, int> Load(ClusterLayout l) =>
        l.Shards.SelectMany(p => p.Members()).GroupBy(m => m).ToDictionary(g => g.Key, g => g.Count());

    [Fact]
    public void SlotsSpreadSequentialIdsEvenly()
    {
        var counts = new int[SlotHash.DefaultSlotCount];
        for (ulong id = 0; id < 1_024_000; id++) counts[SlotHash.Slot(id, SlotHash.DefaultSlotCount)]++;
        // 1000 expected per slot; a binomial's 6 sigma is about 190.
        Assert.InRange(counts.Min(), 800, 1000);
        Assert.InRange(counts.Max(), 1000, 1200);
        Assert.Equal(SlotHash.Slot(42, 1024), SlotHash.Slot(42, 1024));
    }

    [Fact]
    public void EveryStepKeepsTheIncarnationACreateStartedAt()
    {
        var l = LayoutPlanner.Create("db", "c", s_spec, 6, 2, s_three, SlotHash.DefaultSlotCount, version: 41);
        Assert.Equal((41L, 41L), (l.Version, l.Incarnation));
        var steps = new[]
        {
            LayoutPlanner.AddLearner(l, 0, "c"),
            LayoutPlanner.WithTraining(l, 2),
            LayoutPlanner.Retired(l),
            LayoutPlanner.WithGenerations(l, [], 0, null),
            LayoutPlanner.RemoveDead(l, new HashSet<string> { "a", "b" })!,
            LayoutPlanner.Promote(LayoutPlanner.AddLearner(l, 0, "c"), 0, "c", null),
        };
        Assert.All(steps, next => Assert.Equal(41, next.Incarnation));
        Assert.All(steps, next => Assert.True(next.Version > l.Version));
        Assert.Equal(1, Create().Incarnation);
    }

    [Fact]
    public void CreatePlacesEveryShardOnRDistinctSilosEvenly()
    {
        var l = Create();
        Assert.Equal(1, l.Version);
        Assert.All(l.Shards, p => Assert.Equal(2, p.Members().Distinct().Count()));
        Assert.All(Load(l).Values, n => Assert.Equal(4, n));
        Assert.Equal(2, l.Shards.Count(p => p.Primary == "a"));
        Assert.Equal(Enumerable.Range(0, 6), l.SlotToShard.Distinct().Order());
        Assert.Throws<InvalidArgumentException>(() => Create(r: 4));
        Assert.Throws<InvalidArgumentException>(() => Create(shards: 0));
    }

    [Fact]
    public void RemoveDeadPromotesTheReplicaAndBumpsEpochAndVersion()
    {
        var l = Create();
        var dead = l.Shards.First(p => p.Primary == "b");
        var after = LayoutPlanner.RemoveDead(l, new HashSet<string> { "a", "c" });
        Assert.NotNull(after);
        Assert.Equal(l.Version + 1, after.Version);
        var p = after.Shards[dead.Shard];
        Assert.Equal(dead.Replicas[0], p.Primary);
        Assert.Equal(dead.Epoch + 1, p.Epoch);
        Assert.DoesNotContain(after.Shards, q => q.Members().Contains("b"));
        // Shards whose primary survived keep their epoch, so their writes are not bounced.
        Assert.All(after.Shards.Where(q => l.Shards[q.Shard].Primary != "b"), q => Assert.Equal(l.Shards[q.Shard].Epoch, q.Epoch));
        Assert.Null(LayoutPlanner.RemoveDead(after, new HashSet<string> { "a", "c" }));
    }

    [Fact]
    public void AShardWithNoLiveCopyKeepsItsDeadPrimaryInsteadOfLookingEmpty()
    {
        var l = Create(shards: 2, r: 1, silos: ["a", "b"]);
        var after = LayoutPlanner.RemoveDead(l, new HashSet<string> { "a" });
        Assert.Null(after); // nothing can change: shard 1's only copy is on b
        Assert.Null(LayoutPlanner.NextStep(l, new HashSet<string> { "a" }));
    }

    [Fact]
    public void AShardWhoseCopiesAllDiedKeepsThemAllUntilOneComesBack()
    {
        var l = Create(shards: 6, r: 2);
        var both = l.Shards.First(p => p.Primary == "a" && p.Replicas.Contains("b"));
        var after = LayoutPlanner.RemoveDead(l, new HashSet<string> { "c" })!;
        Assert.Same(both, after.Shards[both.Shard]);
        // The replica comes back first with its data: it takes over.
        var back = LayoutPlanner.RemoveDead(after, new HashSet<string> { "b", "c" })!;
        Assert.Equal(("b", both.Epoch + 1), (back.Shards[both.Shard].Primary, back.Shards[both.Shard].Epoch));
    }

    [Fact]
    public void ACopyThatLostItsDataLeavesTheShardAndAPrimaryHandsOverToALiveReplica()
    {
        var l = Create(shards: 6, r: 2);
        var p = l.Shards.First(q => q.Primary == "a");
        var alive = new HashSet<string>(s_three);
        var handed = LayoutPlanner.DropLostCopy(l, p.Shard, "a", alive)!;
        Assert.Equal((p.Replicas[0], p.Epoch + 1), (handed.Shards[p.Shard].Primary, handed.Shards[p.Shard].Epoch));
        Assert.DoesNotContain("a", handed.Shards[p.Shard].Members());
        Assert.Equal(l.Incarnation, handed.Incarnation);
        var replica = LayoutPlanner.DropLostCopy(l, p.Shard, p.Replicas[0], alive)!;
        Assert.Equal(("a", p.Epoch), (replica.Shards[p.Shard].Primary, replica.Shards[p.Shard].Epoch));
        Assert.DoesNotContain(p.Replicas[0], replica.Shards[p.Shard].Members());
        // No live replica to hand over to: the shard stays as it is (unavailable), never empty.
        Assert.Null(LayoutPlanner.DropLostCopy(l, p.Shard, "a", new HashSet<string> { "a" }));
        Assert.Null(LayoutPlanner.DropLostCopy(l, p.Shard, l.Shards.SelectMany(q => q.Members()).First(s => !p.Members().Contains(s)), alive));
    }

    [Fact]
    public void NextStepReReplicatesToTheLeastLoadedSiloThenStops()
    {
        var alive = new HashSet<string> { "a", "c", "d" };
        var l = LayoutPlanner.RemoveDead(Create(), alive)!;
        int steps = 0;
        while (LayoutPlanner.NextStep(l, alive) is { } step)
        {
            Assert.True(++steps <= 12, "planner does not converge");
            Assert.DoesNotContain(step.Target, l.Shards[step.Shard].Members());
            l = LayoutPlanner.AddLearner(l, step.Shard, step.Target);
            Assert.Contains(step.Target, l.Shards[step.Shard].Learners);
            l = LayoutPlanner.Promote(l, step.Shard, step.Target, step.Source);
        }
        Assert.All(l.Shards, p => Assert.Equal(2, p.InSync().Length));
        var load = Load(l);
        Assert.True(load.Values.Max() - load.Values.Min() <= 1, string.Join(",", load));
        Assert.True(load.ContainsKey("d"));
    }

    [Fact]
    public void AJoiningSiloReceivesMovedReplicasAndTheSourcesAreRetired()
    {
        var l = Create(shards: 8);
        var alive = new HashSet<string> { "a", "b", "c", "d" };
        int moves = 0;
        while (LayoutPlanner.NextStep(l, alive) is { } step)
        {
            Assert.NotNull(step.Source);
            Assert.True(++moves <= 8);
            var before = l.Shards[step.Shard];
            l = LayoutPlanner.Promote(LayoutPlanner.AddLearner(l, step.Shard, step.Target), step.Shard, step.Target, step.Source);
            var after = l.Shards[step.Shard];
            Assert.DoesNotContain(step.Source, after.Members());
            Assert.Contains(step.Target, after.InSync());
            Assert.Equal(before.Primary == step.Source ? before.Epoch + 1 : before.Epoch, after.Epoch);
        }
        Assert.Equal(4, Load(l)["d"]);
        Assert.All(l.Shards, p => Assert.Equal(2, p.Members().Distinct().Count()));
    }

    [Fact]
    public void EjectRemovesAReplicaButNeverThePrimary()
    {
        var l = Create();
        var p = l.Shards[0];
        Assert.Null(LayoutPlanner.Eject(l, 0, p.Primary));
        var e = LayoutPlanner.Eject(l, 0, p.Replicas[0])!;
        Assert.Empty(e.Shards[0].Replicas);
        Assert.Equal(p.Epoch, e.Shards[0].Epoch);
    }
}
