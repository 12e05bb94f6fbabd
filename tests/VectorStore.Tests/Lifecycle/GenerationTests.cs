using VectorStore.Collections;
using VectorStore.Lifecycle;
using VectorStore.Tests.Storage;
using Xunit;

namespace VectorStore.Tests.Lifecycle;

/// <summary>
/// Compression generations: a candidate built while writes go on holds every write; promote and rollback switch what
/// answers queries and survive a clean reopen and a crash; refusals are typed and change nothing.
/// </summary>
public sealed class GenerationTests
{
    private const int Dim = 32;
    private static readonly SearchOptions AllLists = new() { K = 1, NProbe = 16, Rerank = 30 };

    private static CollectionOptions Options(string compression = "sq8", string index = "flat") =>
        new() { Dimension = Dim, Metric = Metric.L2, Compression = compression, Index = index, TrainingThreshold = 500 };

    private static void Insert(Collection c, VectorMatrix data, int from, int count)
    {
        var ids = Enumerable.Range(from, count).Select(i => (ulong)i).ToArray();
        c.UpsertBatch(ids, new VectorMatrix(data.Data.AsSpan(from * Dim, count * Dim).ToArray(), Dim));
    }

    /// <summary>Every live id is found by its own vector (k = 1, every list probed, exact re-rank); no deleted id is.</summary>
    private static void AssertHoldsExactly(Collection c, VectorMatrix data, HashSet<ulong> live, SearchOptions options)
    {
        Assert.Equal(live.Count, c.Count);
        foreach (var id in live)
        {
            var hits = c.Search(data.Row((int)id), options);
            Assert.True(hits.Length == 1 && hits[0].Id == id, $"id {id} not found by its own vector (got {(hits.Length > 0 ? hits[0].Id : -1)})");
        }
    }

    /// <summary>
    /// An application's start-up get-or-create with the options it created the collection with keeps working after an
    /// operator promotes another compression and index (it threw "already exists with different options"), in process
    /// and through the client interface's default (what a TCP client runs); dimension and metric are still compared,
    /// and after a rollback to the first generation the scheme is compared again.
    /// </summary>
    [Fact]
    public async Task GetOrCreateWithTheCreationOptionsSurvivesAPromotionOfAnotherScheme()
    {
        using var db = VectorDatabase.CreateInMemory();
        var created = Options();
        var c = db.GetOrCreateCollection("c", created);
        Insert(c, StorageTestKit.Vectors(700, Dim, 3), 0, 700);
        c.BuildIndex();
        int candidate = c.BuildGeneration("pq:8", "ivf:8");
        await c.WaitForGeneration(candidate);
        c.Promote(candidate);
        Assert.Equal(("pq:8", "ivf:8"), (c.Options.Compression, c.Options.Index));

        IVectorDatabaseClient remote = new VectorStore.Tests.Protocol.DelegatingClient(new InProcessDatabaseClient(db));
        Assert.Same(c, db.GetOrCreateCollection("c", created));
        Assert.False(await remote.GetOrCreateCollectionAsync("c", created));
        Assert.Same(c, db.GetOrCreateCollection("c", created with { Compression = "pq:8", Index = "ivf:8" }));
        var wider = Assert.Throws<InvalidArgumentException>(() => db.GetOrCreateCollection("c", created with { Dimension = Dim + 1 }));
        Assert.Contains("dimension", wider.Message);
        await Assert.ThrowsAsync<InvalidArgumentException>(() => remote.GetOrCreateCollectionAsync("c", created with { Metric = Metric.Cosine }));

        Assert.Equal(1, c.Rollback());
        Assert.Same(c, db.GetOrCreateCollection("c", created));
        var scheme = Assert.Throws<InvalidArgumentException>(() => db.GetOrCreateCollection("c", created with { Compression = "pq:8" }));
        Assert.Contains("compression", scheme.Message);
        await Assert.ThrowsAsync<InvalidArgumentException>(() => remote.GetOrCreateCollectionAsync("c", created with { Index = "ivf:8" }));
    }

    [Fact]
    public async Task AnExactAnswerCarriesTheGenerationThatGaveIt()
    {
        // Generations are numbered from 1 (the one the collection is created with), and an exact answer is still that
        // generation's: hits used to say 0 while GetStats (and the CLI's info) said 1.
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", Options());
        var data = StorageTestKit.Vectors(700, Dim, 2);
        Insert(c, data, 0, 300);
        Assert.False(c.GetStats().Trained);
        Assert.Equal(1, c.GetStats().Generation);
        Assert.All(c.Search(data.Row(0), new SearchOptions { K = 5 }), h => Assert.Equal(1, h.Generation));
        Assert.All(c.SearchBatch(data.Slice(0, 3), new SearchOptions { K = 2 }), hits => Assert.All(hits, h => Assert.Equal(1, h.Generation)));

        Insert(c, data, 300, 400);
        c.BuildIndex();
        int candidate = c.BuildGeneration("sq8", "flat");
        await c.WaitForGeneration(candidate);
        c.Promote(candidate);
        // A filter this selective is answered by an exact scan of its matches, not through the index.
        var few = new SearchOptions { K = 3, Filter = new SearchFilter { Ids = new HashSet<ulong> { 1, 2, 3 } } };
        Assert.All(c.Search(data.Row(1), few), h => Assert.Equal(candidate, h.Generation));
        Assert.Equal(candidate, c.GetStats().Generation);
    }

    [Fact]
    public async Task CandidateBuiltDuringWritesHoldsEveryWriteAndServesAfterPromote()
    {
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", Options());
        var data = StorageTestKit.Vectors(9000, Dim, 1);
        Insert(c, data, 0, 5000);
        var live = new HashSet<ulong>(Enumerable.Range(0, 5000).Select(i => (ulong)i));
        int generation = c.BuildGeneration("sq8", "ivf:16");
        Assert.Equal(2, generation);
        // Writes while it builds: new ids, overwrites with other vectors, deletes.
        var rng = new Random(3);
        for (int b = 0; b < 40; b++)
        {
            Insert(c, data, 5000 + b * 100, 100);
            for (int i = 0; i < 100; i++) live.Add((ulong)(5000 + b * 100 + i));
            ulong victim = (ulong)rng.Next(0, 5000);
            if (c.Delete(victim)) live.Remove(victim);
        }
        await c.WaitForGeneration(generation);
        var info = c.Generations();
        Assert.Equal([1, 2], info.Select(g => g.Generation));
        Assert.Equal(GenerationState.Live, info[0].State);
        Assert.Equal(GenerationState.Candidate, info[1].State);
        Assert.True(info[1].Ready);
        Assert.Equal("ivf:16", info[1].Index);
        // Writes after it is attached reach it too.
        Insert(c, data, 9000 - 50, 50);
        for (int i = 0; i < 50; i++) live.Add((ulong)(9000 - 50 + i));
        c.Promote(generation);
        Assert.Equal(2, c.LiveGeneration);
        Assert.Equal("ivf:16", c.Options.Index);
        Assert.Equal(2, c.GetStats().Generation);
        AssertHoldsExactly(c, data, live, AllLists);
        Assert.All(c.Search(data.Row(0), AllLists with { K = 5 }), h => Assert.Equal(2, h.Generation));
        Assert.Equal(GenerationState.Retired, c.Generations()[0].State);
    }

    /// <summary>
    /// Generations rolled back from live (candidates again) fall under the retention like retired ones. A user pass ran
    /// nine promote-rollback cycles with gc after each: every rolled-back generation stayed, gc removed none even at
    /// retention 0, and once eight were kept every build was refused. The stamp that marks them survives a crash.
    /// </summary>
    [Fact]
    public async Task RolledBackGenerationsAreCollectedBeyondTheRetention()
    {
        var dir = TestData.TempDir();
        var data = StorageTestKit.Vectors(800, Dim, 5);
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.CreateCollection("c", Options());
            Insert(c, data, 0, 800);
            for (int cycle = 0; cycle < MaxCycles; cycle++)
            {
                int g = c.BuildGeneration("sq8", "flat");
                await c.WaitForGeneration(g);
                c.Promote(g);
                Assert.Equal(1, c.Rollback());
                c.CollectGenerations();
                var others = c.Generations().Where(x => x.State != GenerationState.Live).ToList();
                // Retention 1 (the default): the latest rolled-back generation stays, ready to be promoted again.
                Assert.Equal([g], others.Select(x => x.Generation));
                // A snapshot after the last cycle: the reopen reads the rolled-back generation's stamp from it, not the log.
                if (cycle == MaxCycles - 1) db.Snapshot();
            }
            StorageTestKit.Crash(db);
        }
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(1, c.LiveGeneration);
            c.Policy = c.Policy with { RetainRetired = 0 };
            Assert.Equal(1, c.CollectGenerations());
            Assert.Equal([1], c.Generations().Select(x => x.Generation));
        }
    }

    private const int MaxCycles = 10; // beyond the eight generations a collection may keep beside the live one

    [Fact]
    public async Task PromoteAndRollbackSurviveReopenAndCrash()
    {
        var dir = TestData.TempDir();
        var data = StorageTestKit.Vectors(3000, Dim, 2);
        var live = new HashSet<ulong>(Enumerable.Range(0, 3000).Select(i => (ulong)i));
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.CreateCollection("c", Options());
            Insert(c, data, 0, 2000);
            int g = c.BuildGeneration("sq8", "ivf:16");
            await c.WaitForGeneration(g);
            c.Promote(g);
            Insert(c, data, 2000, 1000);
        }
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(2, c.LiveGeneration);
            Assert.Equal("ivf:16", c.Options.Index);
            Assert.Equal([GenerationState.Retired, GenerationState.Live], c.Generations().Select(x => x.State));
            AssertHoldsExactly(c, data, live, AllLists);
            Assert.Equal(1, c.Rollback());
            Assert.Equal("flat", c.Options.Index);
            // No checkpoint after the rollback: the log alone must carry it.
            StorageTestKit.Crash(db);
        }
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(1, c.LiveGeneration);
            var info = c.Generations();
            Assert.Single(info, x => x.State == GenerationState.Live);
            Assert.Equal(GenerationState.Candidate, info.Single(x => x.Generation == 2).State);
            AssertHoldsExactly(c, data, live, AllLists with { Rerank = 0 });
            // The rolled-back generation was kept current: promoting it again needs no build.
            c.Promote(2);
            AssertHoldsExactly(c, data, live, AllLists);
        }
    }

    [Fact]
    public async Task PromotionAfterTheLastCheckpointIsReplayedFromTheLog()
    {
        var dir = TestData.TempDir();
        var data = StorageTestKit.Vectors(2500, Dim, 4);
        var live = new HashSet<ulong>(Enumerable.Range(0, 2500).Select(i => (ulong)i));
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.CreateCollection("c", Options());
            Insert(c, data, 0, 2000);
            int g = c.BuildGeneration("sq8", "ivf:16");
            await c.WaitForGeneration(g);
            Insert(c, data, 2000, 500);
            c.Promote(g);
            StorageTestKit.Crash(db);
        }
        // The last snapshot (written when the build finished) has generation 2 as a candidate; the log after it
        // holds 500 upserts and the set-live record.
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(2, c.LiveGeneration);
            AssertHoldsExactly(c, data, live, AllLists);
        }
    }

    [Fact]
    public async Task DeclaredCandidateInterruptedByACrashIsRebuiltAfterReopen()
    {
        var dir = TestData.TempDir();
        var data = StorageTestKit.Vectors(3000, Dim, 5);
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.CreateCollection("c", Options());
            Insert(c, data, 0, 3000);
            c.Policy = new LifecyclePolicy { BuildVectorsPerSecond = 1000 }; // slow: the crash lands mid-build
            c.BuildGeneration("pq:8", "ivf:16");
            Thread.Sleep(200);
            Assert.False(c.Generations()[1].Ready);
            StorageTestKit.Crash(db);
        }
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(2, c.Generations().Count);
            await c.WaitForGeneration(2);
            Assert.True(c.Generations()[1].Ready);
            c.Promote(2);
            AssertHoldsExactly(c, data, new HashSet<ulong>(Enumerable.Range(0, 3000).Select(i => (ulong)i)), AllLists);
        }
    }

    [Fact]
    public void LifecyclePolicySurvivesACrashAndACheckpoint()
    {
        var dir = TestData.TempDir();
        var policy = new LifecyclePolicy
        {
            RetainRetired = 3, RebalanceOnDrift = true, BuildCandidateOnDrift = true, PromoteWhenGatePasses = true, CanaryRate = 0.02,
            Gate = new PromotionGate { MinExactQueries = 77, MaxRecallLoss = 0.005, MaxP99Factor = 1.25 }, RollbackRecallFloor = 0.8, BuildVectorsPerSecond = 5000,
        };
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.CreateCollection("c", Options());
            Insert(c, StorageTestKit.Vectors(600, Dim, 11), 0, 600);
            c.Policy = policy;
            StorageTestKit.Crash(db); // only the log holds it
        }
        using (var db = VectorDatabase.Open(dir))
        {
            Assert.Equal(policy, db.GetCollection("c").Policy);
            db.Compact("c"); // now the snapshot holds it and the log is truncated
        }
        using (var db = VectorDatabase.Open(dir))
            Assert.Equal(policy, db.GetCollection("c").Policy);
        using (var ro = VectorDatabase.OpenReadOnly(dir))
        {
            Assert.Equal(policy, ro.GetCollection("c").Policy);
            Assert.Throws<ReadOnlyDatabaseException>(() => ro.GetCollection("c").Policy = new LifecyclePolicy());
        }
    }

    [Fact]
    public async Task RefusalsAreTypedAndChangeNothing()
    {
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", Options());
        Assert.Throws<InvalidArgumentException>(() => c.BuildGeneration("sq8", "ivf:16")); // no vectors yet
        Insert(c, StorageTestKit.Vectors(1000, Dim, 6), 0, 1000);
        Assert.Contains("in 2..255", Assert.Throws<InvalidArgumentException>(() => c.BuildGeneration("sq8", "hnsw:0")).Message);
        Assert.Throws<InvalidArgumentException>(() => c.BuildGeneration("pq:33", "flat"));
        Assert.Throws<InvalidArgumentException>(() => c.Promote(7));
        Assert.Throws<InvalidArgumentException>(() => c.Promote(1));
        Assert.Throws<InvalidArgumentException>(() => c.Rollback());
        c.Policy = new LifecyclePolicy { BuildVectorsPerSecond = 200 };
        int g = c.BuildGeneration("sq8", "ivf:8");
        Assert.Contains("not ready", Assert.Throws<InvalidArgumentException>(() => c.Promote(g)).Message);
        c.Policy = new LifecyclePolicy();
        await c.WaitForGeneration(g);
        // A gate with no canary figures refuses.
        Assert.Contains("gate", Assert.Throws<InvalidArgumentException>(() => c.Promote(g, new PromotionGate())).Message);
        Assert.Throws<InvalidArgumentException>(() => c.SetExposure(g, 101));
        Assert.Throws<InvalidArgumentException>(() => c.StartCanary(new CanarySettings { Generation = g, SampleRate = 0 }));
        Assert.Throws<InvalidArgumentException>(() => c.Policy = new LifecyclePolicy { RetainRetired = -1 });
        Assert.Equal(1, c.LiveGeneration);
        Assert.Equal("flat", c.Options.Index);
    }

    [Fact]
    public async Task RetentionDropsTheOldestRetiredGeneration()
    {
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", Options());
        Insert(c, StorageTestKit.Vectors(1500, Dim, 7), 0, 1500);
        foreach (var index in new[] { "ivf:8", "ivf:16", "flat" })
        {
            int g = c.BuildGeneration("sq8", index);
            await c.WaitForGeneration(g);
            c.Promote(g);
        }
        var info = c.Generations();
        Assert.Equal([3, 4], info.Select(x => x.Generation));
        Assert.Equal(4, c.LiveGeneration);
        Assert.Equal(3, c.Rollback());
        Assert.Throws<InvalidArgumentException>(() => c.Rollback());
        Assert.Equal(0, c.CollectGenerations());
    }

    [Fact]
    public async Task ExposureServesAStableShareOfKeysWithTheCandidate()
    {
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", Options());
        var data = StorageTestKit.Vectors(1500, Dim, 8);
        Insert(c, data, 0, 1500);
        int g = c.BuildGeneration("sq8", "ivf:8");
        await c.WaitForGeneration(g);
        c.SetExposure(g, 30);
        int candidate = 0;
        for (int u = 0; u < 2000; u++)
        {
            var o = new SearchOptions { K = 3, ExposureKey = $"user-{u}" };
            int first = c.Search(data.Row(u % 1500), o)[0].Generation;
            Assert.Equal(first, c.Search(data.Row((u + 7) % 1500), o)[0].Generation); // stable per key
            Assert.True(first is 1 or 2);
            if (first == g) candidate++;
        }
        Assert.InRange(candidate / 2000.0, 0.26, 0.34);
        Assert.All(c.Search(data.Row(0), new SearchOptions { K = 3 }), h => Assert.Equal(1, h.Generation));
        Assert.Equal(30, c.Generations()[1].ExposurePercent);
        c.SetExposure(g, 0);
        Assert.Equal(1, c.Search(data.Row(0), new SearchOptions { K = 3, ExposureKey = "user-1" })[0].Generation);
    }

    [Fact]
    public async Task ShadowCanaryComparesTheCandidateWithLiveAndExactSearch()
    {
        using var db = VectorDatabase.CreateInMemory();
        var options = Options() with { Fields = [new VectorStore.Filtering.FieldDefinition("group", VectorStore.Filtering.FieldType.Keyword)] };
        var c = db.CreateCollection("c", options);
        var data = StorageTestKit.Vectors(2000, Dim, 9);
        var ids = Enumerable.Range(0, 2000).Select(i => (ulong)i).ToArray();
        var fields = ids.Select(i => (IReadOnlyDictionary<string, VectorStore.Filtering.FieldValue>?)new Dictionary<string, VectorStore.Filtering.FieldValue>
        {
            ["group"] = VectorStore.Filtering.FieldValue.Keyword(i % 2 == 0 ? "even" : "odd"),
        }).ToArray();
        c.UpsertBatch(ids, data, null, fields);
        // A deliberately coarse candidate: 2 bytes per vector.
        int g = c.BuildGeneration("pq:2", "flat");
        await c.WaitForGeneration(g);
        c.StartCanary(new CanarySettings { Generation = g, SampleRate = 1, SegmentField = "group", CpuBudget = 64 });
        var queries = StorageTestKit.Vectors(300, Dim, 10);
        for (int i = 0; i < queries.Count; i++) c.Search(queries.Row(i), new SearchOptions { K = 10, Segment = i % 3 == 0 ? "a" : "b" });
        await c.DrainCanary();
        var canary = c.Generations()[1].Canary!;
        // The queue holds 256 waiting queries; beyond that a query is not shadowed (never blocked).
        Assert.InRange(canary.Queries, 256, 300);
        Assert.Equal(canary.Queries, canary.ExactQueries);
        Assert.True(canary.RecallLive > 0.9, $"live sq8 recall {canary.RecallLive}");
        Assert.True(canary.RecallCandidate < canary.RecallLive - 0.2, $"pq:2 recall {canary.RecallCandidate} vs live {canary.RecallLive}");
        Assert.InRange(canary.Overlap, 0, 1);
        Assert.True(canary.LiveP99Ms >= canary.LiveP50Ms && canary.CandidateP50Ms > 0);
        Assert.Contains(canary.Segments, s => s.Segment == "query:a");
        Assert.Contains(canary.Segments, s => s.Segment == "group=even");
        Assert.Equal(canary.Segments.Min(s => s.RecallCandidate), canary.WorstSegment!.RecallCandidate);
        // The offline canary on the same queries agrees with the live one (same generations, all exact).
        var offline = c.RunCanary(g, queries, new SearchOptions { K = 10 });
        Assert.Equal(300, offline.ExactQueries);
        Assert.InRange(offline.RecallLive - canary.RecallLive, -0.03, 0.03);
        Assert.InRange(offline.RecallCandidate - canary.RecallCandidate, -0.03, 0.03);
        // A gate fails the coarse candidate on recall.
        Assert.Contains("recall", Assert.Throws<InvalidArgumentException>(() => c.Promote(g, new PromotionGate { MinExactQueries = 100 })).Message);
        c.StopCanary();
    }
}
