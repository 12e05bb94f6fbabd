using VectorStore.Collections;
using VectorStore.Storage;
using Xunit;
using static VectorStore.Tests.Storage.StorageTestKit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// Incremental index snapshots (data-format.md §4.10): flat and IVF indexes go to their own file, which checkpoints
/// keep naming (with the slots changed since) until enough changed; a reopen re-adds those slots and answers exactly as
/// before; HNSW's file is named with a change image of the nodes changed since; a damaged or missing index file is
/// refused naming it.
/// </summary>
public sealed class IndexFileTests
{
    private const int Dim = 16;

    private static CollectionOptions Opts(string index, string compression = "sq8") =>
        Options(Dim, 300, compression) with { Index = index, RawVectors = RawVectorResidency.Disk };

    private static string[] IndexFiles(string dir) =>
        Directory.GetFiles(Path.Combine(dir, "collections", "c"), "idx-*.vsi").Select(Path.GetFileName).Order().ToArray()!;

    private static (ulong Id, float Score)[][] Answers(Collection c, VectorMatrix queries) =>
        Enumerable.Range(0, queries.Count)
            .Select(q => c.Search(queries.Row(q), new SearchOptions { K = 10, Rerank = 0, NProbe = 4, Ef = 40 }).Select(h => (h.Id, h.Score)).ToArray())
            .ToArray();

    /// <remarks>
    /// The 400 deletions exceed HNSW's consolidation threshold, so its change image also carries relinked and freed
    /// nodes. After a reopen, further changes still name the first file: the restored index keeps tracking against it.
    /// </remarks>
    [Theory]
    [InlineData("flat", "sq8")]
    [InlineData("ivf:8", "sq8")]
    [InlineData("ivf:8", "pq:8x4")]
    [InlineData("hnsw:8", "sq8")]
    [InlineData("hnsw:8", "pq:8x4")]
    public void CheckpointsReuseTheIndexFileAndReopenAnswersTheSame(string index, string compression)
    {
        var dir = TestData.TempDir();
        var data = Vectors(7000, Dim, 41);
        var queries = Vectors(20, Dim, 42);
        (ulong, float)[][] before;
        string first;
        byte[] firstBytes;
        using (var db = Open(dir))
        {
            var c = db.CreateCollection("c", Opts(index, compression));
            Load(c, data.Slice(0, 5000), 0, 500);
            db.Snapshot();
            first = IndexFiles(dir).Single();
            firstBytes = File.ReadAllBytes(Path.Combine(dir, "collections", "c", first));
            // Fewer changes than the rewrite threshold: overwrites, new ids, deletes.
            Load(c, data.Slice(5000, 600), 100, 200);
            Load(c, data.Slice(5600, 400), 5000, 200);
            for (ulong id = 2000; id < 2400; id++) Assert.True(c.Delete(id));
            db.Snapshot();
            Assert.Equal([first], IndexFiles(dir));
            Assert.Equal(firstBytes, File.ReadAllBytes(Path.Combine(dir, "collections", "c", first)));
            Assert.Equal(c.Count, c.Index!.Count);
            before = Answers(c, queries);
        }
        using (var db = Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(5000, c.Count);
            Assert.Equal(c.Count, c.Index!.Count);
            Assert.Equal(before, Answers(c, queries));
            Assert.Null(c.Get(2000));
            AssertVectors(c, data.Slice(5000, 600), 100, 600);
            Load(c, data.Slice(6000, 300), 2000, 100);
            db.Snapshot();
            Assert.Equal([first], IndexFiles(dir));
            before = Answers(c, queries);
        }
        using (var db = Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(5300, c.Count);
            Assert.Equal(before, Answers(c, queries));
            AssertVectors(c, data.Slice(6000, 300), 2000, 300);
        }
    }

    [Fact]
    public void ManyChangesOrCompactionWriteANewIndexFileAndDeleteTheOld()
    {
        var dir = TestData.TempDir();
        var data = Vectors(6000, Dim, 43);
        using var db = Open(dir);
        var c = db.CreateCollection("c", Opts("ivf:8"));
        Load(c, data.Slice(0, 1000), 0, 500);
        AssertKeptThenRewritten(db, dir,
            // Rewriting the same slots counts once: 5 × 1,000 overwrites stay below max(4096, count / 16).
            small: () => { for (int round = 0; round < 5; round++) Load(c, data.Slice(1000, 1000), 0, 500); },
            // 4,500 more distinct slots do not.
            large: () => Load(c, data.Slice(1500, 4500), 1000, 500));
    }

    [Fact]
    public void HnswWritesANewIndexFileWhenItsChangesOutgrowTheOldOneOrAtCompaction()
    {
        var dir = TestData.TempDir();
        var data = Vectors(8000, 128, 46);
        using var db = Open(dir);
        var c = db.CreateCollection("c", Options(128, 300) with { Index = "hnsw:8", RawVectors = RawVectorResidency.Disk });
        Load(c, data.Slice(0, 1500), 0, 500);
        AssertKeptThenRewritten(db, dir,
            small: () => Load(c, data.Slice(1500, 200), 1500, 200),
            // 6,000 more nodes and their neighbours' lists are well over the 1 MiB a change image may reach.
            large: () => Load(c, data.Slice(1700, 6000), 1700, 1000));
    }

    /// <summary>
    /// A checkpoint after <paramref name="small"/> keeps the pinned file <paramref name="files"/> lists (the index file
    /// by default); after <paramref name="large"/>, and at compaction, it writes a new one and deletes the old.
    /// </summary>
    internal static void AssertKeptThenRewritten(VectorDatabase db, string dir, Action small, Action large, Func<string, string[]>? files = null)
    {
        files ??= IndexFiles;
        db.Snapshot();
        var first = files(dir);
        Assert.Single(first);
        small();
        db.Snapshot();
        Assert.Equal(first, files(dir));
        large();
        db.Snapshot();
        var second = files(dir);
        Assert.Single(second);
        Assert.NotEqual(first, second);
        db.Compact("c");
        var third = files(dir);
        Assert.Single(third);
        Assert.NotEqual(second, third);
    }

    [Theory]
    [InlineData("delete")]
    [InlineData("flip-middle")]
    [InlineData("truncate-half")]
    [InlineData("swap-older")]
    [InlineData("delete", "hnsw:8")]
    [InlineData("flip-middle", "hnsw:8")]
    [InlineData("swap-older", "hnsw:8")]
    [InlineData("delete", "flat", "slots-*.vsl")]
    [InlineData("flip-middle", "flat", "slots-*.vsl")]
    [InlineData("truncate-half", "flat", "slots-*.vsl")]
    [InlineData("swap-older", "flat", "slots-*.vsl")]
    [InlineData("delete", "flat", "drift-*.vsd")]
    [InlineData("flip-middle", "flat", "drift-*.vsd")]
    public void DamagedOrMissingPinnedFileIsRefusedNamingIt(string damage, string index = "ivf:8", string pattern = "idx-*.vsi")
    {
        string[] Files(string dir) => Directory.GetFiles(Path.Combine(dir, "collections", "c"), pattern).Select(Path.GetFileName).Order().ToArray()!;
        var dir = TestData.TempDir();
        byte[] older;
        using (var db = Open(dir))
        {
            // Drift sensors need a training sample of 8,000 (Collection.MinDriftSample).
            int train = pattern.StartsWith("drift", StringComparison.Ordinal) ? Collection.MinDriftSample : 300;
            var c = db.CreateCollection("c", Opts(index) with { TrainingThreshold = train });
            Load(c, Vectors(train + 1000, Dim, 45), 0, 500);
            db.Compact("c");
            older = File.ReadAllBytes(Path.Combine(dir, "collections", "c", Files(dir)[0]));
            Load(c, Vectors(200, Dim, 46), 0, 100);
            db.Compact("c");
        }
        string name = Files(dir).Single();
        string path = Path.Combine(dir, "collections", "c", name);
        switch (damage)
        {
            case "delete": File.Delete(path); break;
            case "swap-older": File.WriteAllBytes(path, older); break; // a well-formed file, but not the one named
            default: CorruptionMatrixTests.Damage(path, damage); break;
        }
        var e = Assert.ThrowsAny<VectorStoreException>(() => Open(dir).Dispose());
        Assert.Contains(name, e.Message);
    }
}
