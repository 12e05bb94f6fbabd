using VectorStore.Collections;
using VectorStore.Lifecycle;
using VectorStore.Tests.Storage;
using Xunit;

namespace VectorStore.Tests.Lifecycle;

/// <summary>
/// Generations trained on a caller's sample (what a cluster's shards use): collections holding different vectors
/// train the same codec from the same sample, number and seed; the generation survives a reopen once built, and one
/// interrupted before a snapshot held it never comes back rebuilt from another sample.
/// </summary>
public sealed class GivenSampleGenerationTests
{
    private const int Dim = 32;

    private static CollectionOptions Options() =>
        new() { Dimension = Dim, Metric = Metric.L2, Compression = "sq8", Index = "flat", TrainingThreshold = 500 };

    private static void Insert(Collection c, VectorMatrix data, int from, int count)
    {
        var ids = Enumerable.Range(from, count).Select(i => (ulong)i).ToArray();
        c.UpsertBatch(ids, new VectorMatrix(data.Data.AsSpan(from * Dim, count * Dim).ToArray(), Dim));
    }

    [Fact]
    public async Task CollectionsWithDifferentVectorsTrainTheSameCodecFromOneSample()
    {
        using var db = VectorDatabase.CreateInMemory();
        var data = StorageTestKit.Vectors(6000, Dim, 11);
        var sample = data.Slice(4000, 2000);
        var a = db.CreateCollection("a", Options());
        var b = db.CreateCollection("b", Options());
        Insert(a, data, 0, 2000);
        Insert(b, data, 2000, 2000);
        // One probe vector stored in both: with no exact re-rank its score is the codec's (a flat scan of every code;
        // a filter would answer exactly), so equal scores on a few queries mean equal codecs.
        var probe = data.Row(5999).ToArray();
        a.Upsert(9999, probe);
        b.Upsert(9999, probe);
        int ga = a.BuildGeneration("pq:8", "flat", sample, 7);
        int gb = b.BuildGeneration("pq:8", "flat", sample, 7);
        Assert.Equal(7, ga);
        Assert.Equal(7, gb);
        await a.WaitForGeneration(7);
        await b.WaitForGeneration(7);
        a.Promote(7);
        b.Promote(7);
        var codecOnly = new SearchOptions { K = 2001, Rerank = 0 };
        float ProbeScore(Collection c, ReadOnlySpan<float> query) => c.Search(query, codecOnly).Single(h => h.Id == 9999).Score;
        var scoresA = new List<float>();
        var scoresB = new List<float>();
        for (int q = 0; q < 20; q++)
        {
            var query = data.Row(4000 + q * 50);
            scoresA.Add(ProbeScore(a, query));
            scoresB.Add(ProbeScore(b, query));
        }
        Assert.Equal(scoresA, scoresB);

        // Each trained from its own vectors instead, the codecs differ (so the assertion above can fail).
        int oa = a.BuildGeneration("pq:8", "flat");
        int ob = b.BuildGeneration("pq:8", "flat");
        await a.WaitForGeneration(oa);
        await b.WaitForGeneration(ob);
        a.Promote(oa);
        b.Promote(ob);
        var query0 = data.Row(4000);
        Assert.NotEqual(ProbeScore(a, query0), ProbeScore(b, query0));
        Assert.NotEqual(ProbeScore(a, query0), a.Search(query0, new SearchOptions { K = 1, Filter = new SearchFilter { Ids = new HashSet<ulong> { 9999 } } }).Single().Score);
    }

    [Fact]
    public async Task BuiltGenerationSurvivesACrashAndTheNumberIsTheCallers()
    {
        var dir = TestData.TempDir();
        var data = StorageTestKit.Vectors(3000, Dim, 12);
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.CreateCollection("c", Options());
            Insert(c, data, 0, 2500);
            int g = c.BuildGeneration("sq8", "ivf:8", data.Slice(0, 1000), 40);
            await c.WaitForGeneration(g);
            Insert(c, data, 2500, 500);
            c.Promote(40);
            StorageTestKit.Crash(db);
        }
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(40, c.LiveGeneration);
            Assert.Equal(3000, c.Count);
            var hit = c.Search(data.Row(2999), new SearchOptions { K = 1, NProbe = 8, Rerank = 10 }).Single();
            Assert.Equal(2999UL, hit.Id);
            Assert.Equal(40, hit.Generation);
            // A caller-numbered generation is refused when the number is taken; a plain one continues after it.
            var taken = Assert.Throws<InvalidArgumentException>(() => c.BuildGeneration("sq8", "flat", data.Slice(0, 100), 40));
            Assert.Contains("already has a generation 40", taken.Message);
            Assert.Equal(41, c.BuildGeneration("sq8", "flat"));
        }
    }

    [Fact]
    public async Task InterruptedBuildComesBackFailedNotRebuiltFromAnotherSample()
    {
        var dir = TestData.TempDir();
        var data = StorageTestKit.Vectors(3000, Dim, 13);
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.CreateCollection("c", Options());
            Insert(c, data, 0, 3000);
            c.Policy = new LifecyclePolicy { BuildVectorsPerSecond = 1000 }; // slow: the crash lands mid-build
            c.BuildGeneration("pq:8", "ivf:16", data.Slice(0, 1000), 5);
            Thread.Sleep(200);
            Assert.False(c.Generations().Single(g => g.Generation == 5).Ready);
            StorageTestKit.Crash(db);
        }
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.GetCollection("c");
            var g5 = c.Generations().Single(g => g.Generation == 5);
            Assert.False(g5.Ready);
            Assert.Contains("build it again", g5.Error);
            var refused = Assert.Throws<InvalidArgumentException>(() => c.Promote(5));
            Assert.Contains("failed to build", refused.Message);
            await Assert.ThrowsAsync<InvalidArgumentException>(() => c.WaitForGeneration(5));
            // What the caller does next: drop it and build it again under the same number.
            Assert.True(c.DropGeneration(5));
            c.Policy = new LifecyclePolicy();
            c.BuildGeneration("pq:8", "ivf:16", data.Slice(0, 1000), 5);
            await c.WaitForGeneration(5);
            c.Promote(5);
            Assert.Equal(5, c.LiveGeneration);
        }
    }

    [Fact]
    public async Task TheSampleIsCopiedAtTheCall()
    {
        // The build runs in the background: a caller reusing its buffer must not change what it trains on.
        using var db = VectorDatabase.CreateInMemory();
        var data = StorageTestKit.Vectors(3000, Dim, 15);
        var a = db.CreateCollection("a", Options());
        var b = db.CreateCollection("b", Options());
        Insert(a, data, 0, 2000);
        Insert(b, data, 0, 2000);
        a.Policy = new LifecyclePolicy { BuildVectorsPerSecond = 2000 }; // still building when the buffer changes
        var buffer = data.Slice(2000, 1000);
        var copy = new VectorMatrix((float[])buffer.Data.Clone(), Dim);
        a.BuildGeneration("pq:8", "flat", buffer, 2);
        Array.Fill(buffer.Data, 100f);
        b.BuildGeneration("pq:8", "flat", copy, 2);
        await a.WaitForGeneration(2);
        await b.WaitForGeneration(2);
        a.Promote(2);
        b.Promote(2);
        var all = new SearchOptions { K = 2000, Rerank = 0 };
        Assert.Equal(b.Search(data.Row(5), all).Select(h => (h.Id, h.Score)), a.Search(data.Row(5), all).Select(h => (h.Id, h.Score)));
    }

    [Fact]
    public void BadSamplesAreRefusedWithoutDeclaringAnything()
    {
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", Options());
        Insert(c, StorageTestKit.Vectors(600, Dim, 14), 0, 600);
        Assert.Throws<InvalidArgumentException>(() => c.BuildGeneration("sq8", "flat", StorageTestKit.Vectors(10, Dim + 1, 1), 3));
        Assert.Throws<InvalidArgumentException>(() => c.BuildGeneration("sq8", "flat", new VectorMatrix([], Dim), 3));
        Assert.Throws<InvalidArgumentException>(() => c.BuildGeneration("sq8", "flat", StorageTestKit.Vectors(10, Dim, 1), 0));
        Assert.Throws<InvalidArgumentException>(() => c.BuildGeneration("bogus", "flat", StorageTestKit.Vectors(10, Dim, 1), 3));
        var nan = StorageTestKit.Vectors(10, Dim, 1);
        nan[4][7] = float.NaN;
        Assert.Throws<InvalidVectorException>(() => c.BuildGeneration("sq8", "flat", nan, 3));
        Assert.Single(c.Generations());
    }
}
