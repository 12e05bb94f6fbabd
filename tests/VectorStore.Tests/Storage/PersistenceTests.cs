using VectorStore.Collections;
using Xunit;
using static VectorStore.Tests.Storage.StorageTestKit;

namespace VectorStore.Tests.Storage;

public sealed class PersistenceTests
{
    [Fact]
    public void CrashAfterAcknowledgedWritesKeepsEveryWriteBitIdentical()
    {
        var dir = TestData.TempDir();
        var m = Vectors(1000, 16, 1);
        var db = Open(dir);
        var c = db.CreateCollection("c", Options());
        Load(c, m, 100, 64);
        Assert.True(c.Delete(100));
        Crash(db);
        foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)) Console.WriteLine($"{f} {new FileInfo(f).Length}");

        using var db2 = Open(dir);
        var c2 = db2.GetCollection("c");
        Assert.Equal(999, c2.Count);
        Assert.False(c2.Contains(100));
        AssertHas(c2, m.Slice(1, 999), 101, 999);
        Assert.True(c2.GetStats().Trained);
    }
}

public sealed class CompactionAndConcurrencyTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public void DeletingHalfAndCompactingShrinksDiskUsage()
    {
        var dir = TestData.TempDir();
        using var db = Open(dir);
        var c = db.CreateCollection("c", Options(dim: 64));
        var m = Vectors(4000, 64, 2);
        Load(c, m, 0, 200);
        db.Compact("c");
        long full = db.DiskBytes("c");
        for (ulong id = 0; id < 4000; id += 2) Assert.True(c.Delete(id));
        long afterDeletes = db.DiskBytes("c");
        db.Compact("c");
        long compacted = db.DiskBytes("c");
        output.WriteLine($"disk bytes: {full} loaded+compacted, {afterDeletes} after deleting half, {compacted} after compaction");
        // Raw vectors dominate: half of them gone should remove well over a third of the bytes.
        Assert.True(compacted < full * 0.65, $"disk bytes {full} -> {afterDeletes} after deletes -> {compacted} after compaction");
        db.SimulateCrash();
        using var db2 = Open(dir);
        var c2 = db2.GetCollection("c");
        Assert.Equal(2000, c2.Count);
        for (int i = 1; i < 4000; i += 2) Assert.True(m.Row(i).SequenceEqual(c2.Get((ulong)i)!.Vector));
        Assert.Null(c2.Get(0));
        Assert.Single(Directory.GetFiles(Path.Combine(dir, "collections", "c"), "snap-*"));
    }

    [Fact]
    public void PeriodicSnapshotTruncatesTheLogWhileWriting()
    {
        var dir = TestData.TempDir();
        var settings = Small with { SnapshotAfterLogBytes = 64 << 10 };
        var db = Open(dir, settings);
        var c = db.CreateCollection("c", Options(threshold: 200));
        var m = Vectors(3000, 16, 6);
        Load(c, m, 0, 100);
        var store = db.StoreOf("c")!;
        // Checkpoints run in the background: on a loaded machine the first can outlast the whole load (CI saw a
        // single snapshot). Writing goes on, overwriting the same vectors, until a second one has published.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (store.Entry.SnapshotSequence < 2 && DateTime.UtcNow < deadline) Load(c, m, 0, 100);
        store.WaitForBackgroundCheckpoint(); // the last may still be publishing
        Assert.NotNull(store.Entry.Snapshot);
        Assert.True(store.Entry.SnapshotSequence >= 2, $"only {store.Entry.SnapshotSequence} snapshots while writing");
        Assert.True(store.Wal.BeginAddress > 64, "the log was never truncated");
        Crash(db);
        using var db2 = Open(dir, settings);
        AssertHas(db2.GetCollection("c"), m, 0, 3000);
    }

    [Fact]
    public void SnapshotFilesLeftByACrashAreRemovedOnOpen()
    {
        var dir = TestData.TempDir();
        var db = Open(dir);
        Load(db.CreateCollection("c", Options()), Vectors(50, 16, 1), 0, 50);
        db.Compact("c");
        Crash(db);
        string cdir = Path.Combine(dir, "collections", "c");
        File.WriteAllBytes(Path.Combine(cdir, "snap-0000000000.vss"), [1, 2, 3]);
        File.WriteAllBytes(Path.Combine(cdir, "snap-0000000002.vss.tmp"), [1, 2, 3]);
        using var db2 = Open(dir);
        Assert.Equal(50, db2.GetCollection("c").Count);
        Assert.Equal(["snap-0000000001.vss"], Directory.GetFiles(cdir, "snap-*").Select(Path.GetFileName));
    }

    [Fact]
    public void ConcurrentWritersShareCommitsAndAllSurviveACrash()
    {
        var dir = TestData.TempDir();
        var db = Open(dir);
        var c = db.CreateCollection("c", Options(threshold: 1000));
        var m = Vectors(1600, 16, 9);
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, w =>
        {
            for (int b = 0; b < 10; b++)
            {
                int start = (w * 10 + b) * 20;
                Load(c, m.Slice(start, 20), (ulong)start, 20);
            }
        });
        Crash(db);
        using var db2 = Open(dir);
        AssertHas(db2.GetCollection("c"), m, 0, 1600);
        Assert.True(db2.GetCollection("c").GetStats().Trained);
    }

    [Fact]
    public void SnapshotPlusLogTailReopensWithoutRetrainingAndSearchesIdentically()
    {
        var dir = TestData.TempDir();
        var db = Open(dir);
        var c = db.CreateCollection("c", Options(threshold: 200));
        var m = Vectors(800, 16, 4);
        Load(c, m.Slice(0, 500), 0, 100);
        db.Compact("c");
        Load(c, m.Slice(500, 300), 500, 100);
        c.Upsert(7, m.Row(799), [1, 2, 3]);
        Assert.True(c.Delete(8));
        var query = m.Row(3).ToArray();
        var before = c.Search(query, new SearchOptions { K = 20 });
        var codecBefore = Serialize(c);
        Crash(db);
        using var db2 = Open(dir);
        var c2 = db2.GetCollection("c");
        Assert.Equal(before, c2.Search(query, new SearchOptions { K = 20 }));
        Assert.Equal(codecBefore, Serialize(c2));
        Assert.Equal(new byte[] { 1, 2, 3 }, c2.Get(7)!.Payload);
        Assert.True(m.Row(799).SequenceEqual(c2.Get(7)!.Vector));
        Assert.False(c2.Contains(8));
    }

    [Fact]
    public void ExplicitBuildIndexBeforeThresholdIsReplayed()
    {
        var dir = TestData.TempDir();
        var db = Open(dir);
        var c = db.CreateCollection("c", Options(threshold: 10_000));
        Load(c, Vectors(100, 16, 4), 0, 100);
        c.BuildIndex();
        Crash(db);
        using var db2 = Open(dir);
        Assert.True(db2.GetCollection("c").GetStats().Trained);
    }

    private static byte[] Serialize(VectorStore.Collections.Collection c)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms)) VectorStore.Indexing.IndexRegistry.Write(c.Index!, w);
        return ms.ToArray();
    }
}
