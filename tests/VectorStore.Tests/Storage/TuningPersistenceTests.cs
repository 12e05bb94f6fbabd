using System.Buffers.Binary;
using System.IO.Hashing;
using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Storage;
using Xunit;
using static VectorStore.Tests.Storage.StorageTestKit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// Target-recall tuning survives a restart (snapshot version 9, data-format.md §4.4 and §4.13): the caller's tuning
/// queries go to a tuning queries file written once per set, the finished settings into every snapshot, so a reopened
/// collection answers a <see cref="SearchOptions.TargetRecall"/> search with the settings it had instead of tuning
/// again (on stored vectors, which for HNSW misses high targets).
/// </summary>
public sealed class TuningPersistenceTests
{
    private const int Dim = 32;

    private static string CollectionDir(string dir) => Path.Combine(dir, "collections", "c");

    private static string[] TuningFiles(string dir) =>
        Directory.GetFiles(CollectionDir(dir), "tuning-*.vsq").Select(Path.GetFileName).Order().ToArray()!;

    private static CollectionOptions Opts(string index = "hnsw:8") =>
        new() { Dimension = Dim, Metric = Metric.L2, Compression = "pq:8x4", Index = index, TrainingThreshold = 2000 };

    /// <summary>A trained collection of 3,000 clustered vectors, and 200 queries from the same distribution.</summary>
    private static (Collection C, VectorMatrix Queries) Loaded(VectorDatabase db, string index = "hnsw:8")
    {
        var data = SyntheticData.Clustered(3200, Dim, seed: 61);
        var c = db.CreateCollection("c", Opts(index));
        c.UpsertBatch(Enumerable.Range(0, 3000).Select(i => (ulong)i).ToArray(), data.Slice(0, 3000));
        return (c, data.Slice(3000, 200));
    }

    private static void AssertSameQueries(float[][] expected, float[][]? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(expected[i].AsSpan().SequenceEqual(actual[i]), $"kept query {i} differs after the reopen");
    }

    [Theory]
    [InlineData("hnsw:8")]
    [InlineData("ivf:16")]
    public void TunedSettingsAndQueriesSurviveACrashWithoutTuningAgain(string index)
    {
        var dir = TestData.TempDir();
        TunedSearchSettings onQueries, later;
        float[][] kept;
        using (var db = Open(dir))
        {
            var (c, queries) = Loaded(db, index);
            onQueries = c.TuneSearchOnQueries(0.9, queries);
            kept = c.KeptTuningQueries!;
            Assert.Single(TuningFiles(dir)); // written by the checkpoint the call ends with
            later = c.TuneSearch(0.95); // tuned on the kept queries, reaches a snapshot at the next checkpoint
            db.Snapshot();
            Crash(db); // no clean close: what the last checkpoint wrote is all there is
        }
        using (var db = Open(dir))
        {
            var c = db.GetCollection("c");
            AssertSameQueries(kept, c.KeptTuningQueries);
            Assert.True(c.HasTunedSearch(0.9));
            Assert.True(c.HasTunedSearch(0.95));
            long units = c.TuningUnits;
            Assert.Equal(onQueries, c.TuneSearch(0.9));
            Assert.Equal(later, c.TuneSearch(0.95));
            Assert.Equal(10, c.Search(kept[0], new SearchOptions { TargetRecall = 0.9 }).Length);
            Assert.Equal(units, c.TuningUnits); // nothing was tuned again
        }
        // A read-only open (a device searching a copied directory) has them too.
        using (var db = VectorDatabase.OpenReadOnly(dir, null, Small))
        {
            var c = db.GetCollection("c");
            long units = c.TuningUnits;
            Assert.Equal(onQueries, c.TuneSearch(0.9));
            Assert.Equal(later, c.TuneSearch(0.95));
            Assert.Equal(units, c.TuningUnits);
            AssertSameQueries(kept, c.KeptTuningQueries);
        }
    }

    [Fact]
    public void ATuningRunByASearchIsWrittenByTheCleanClose()
    {
        var dir = TestData.TempDir();
        TunedSearchSettings tuned;
        using (var db = Open(dir))
        {
            var (c, queries) = Loaded(db, "ivf:16");
            db.Snapshot();
            Assert.Equal(10, c.Search(queries.Row(0), new SearchOptions { TargetRecall = 0.9 }).Length); // tunes on stored vectors
            Assert.True(c.HasTunedSearch(0.9));
            tuned = c.TuneSearch(0.9);
            // Nothing new in the log, yet a checkpoint is due: no record carries the tuning.
            Assert.True(db.StoreOf("c")!.Dirty);
        }
        using (var db = Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.True(c.HasTunedSearch(0.9));
            Assert.Equal(tuned, c.TuneSearch(0.9));
            Assert.False(db.StoreOf("c")!.Dirty);
        }
    }

    [Fact]
    public void QueriesWhoseCheckpointFailedAreWrittenByTheCleanClose()
    {
        var dir = TestData.TempDir();
        float[][] kept;
        TunedSearchSettings tuned;
        using (var db = Open(dir))
        {
            var (c, queries) = Loaded(db, "ivf:16");
            db.Snapshot();
            // The manifest cannot be replaced: the snapshot is written, its publication fails (and is logged).
            string blocker = Path.Combine(dir, "MANIFEST.tmp");
            Directory.CreateDirectory(blocker);
            tuned = c.TuneSearchOnQueries(0.9, queries);
            kept = c.KeptTuningQueries!;
            Directory.Delete(blocker);
            Assert.True(db.StoreOf("c")!.Dirty);
        }
        using (var db = Open(dir))
        {
            var c = db.GetCollection("c");
            AssertSameQueries(kept, c.KeptTuningQueries);
            Assert.Equal(tuned, c.TuneSearch(0.9));
        }
    }

    [Theory]
    [InlineData("generation")]
    [InlineData("rerank")]
    [InlineData("target")]
    public void ASettingNoTuningProducesIsRefused(string field)
    {
        var dir = TestData.TempDir();
        using (var db = Open(dir))
        {
            var (c, queries) = Loaded(db, "ivf:16");
            c.TuneSearchOnQueries(0.9, queries);
            Crash(db);
        }
        string snap = Directory.GetFiles(CollectionDir(dir), "snap-*.vss").Single();
        var bytes = File.ReadAllBytes(snap);
        // [.. i32 n = 1, the 36-byte setting, i64 M, u64 hash, "VSSNAPEN"]
        int setting = bytes.Length - 24 - 36;
        Assert.Equal(1, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(setting - 4)));
        Assert.Equal(1, BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(setting))); // generation 1, live
        switch (field)
        {
            case "generation": BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(setting), 7); break;
            case "rerank": BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(setting + 24), int.MaxValue); break;
            case "target": BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(setting + 4), 1.5); break;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(bytes.Length - 16), XxHash64.HashToUInt64(bytes.AsSpan(0, bytes.Length - 16)));
        File.WriteAllBytes(snap, bytes);
        var e = Assert.Throws<StoreCorruptedException>(() => Open(dir).Dispose());
        Assert.Contains(Path.GetFileName(snap), e.Message);
        Assert.Contains("tuned setting", e.Message);
    }

    [Fact]
    public void TheQueriesFileIsKeptByteForByteUntilNewQueriesReplaceIt()
    {
        var dir = TestData.TempDir();
        string first;
        byte[] bytes;
        float[][] second;
        using (var db = Open(dir))
        {
            var (c, queries) = Loaded(db);
            c.TuneSearchOnQueries(0.9, queries);
            first = TuningFiles(dir).Single();
            bytes = File.ReadAllBytes(Path.Combine(CollectionDir(dir), first));
            // 200 queries of 32 floats, a 16-byte header, count and dimension, a 16-byte footer.
            Assert.Equal(16 + 8 + 200 * Dim * sizeof(float) + 16, bytes.Length);
            c.UpsertBatch([5000, 5001], Vectors(2, Dim, 62));
            db.Snapshot();
            c.TuneSearch(0.8);
            db.Snapshot();
            Assert.Equal([first], TuningFiles(dir));
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(CollectionDir(dir), first)));
            // New queries: a new file, and the old one goes with the snapshot that named it.
            c.TuneSearchOnQueries(0.9, queries.Slice(0, 50));
            second = c.KeptTuningQueries!;
            Assert.Single(TuningFiles(dir));
            Assert.NotEqual(first, TuningFiles(dir)[0]);
        }
        using (var db = Open(dir))
        {
            var c = db.GetCollection("c");
            AssertSameQueries(second, c.KeptTuningQueries);
            Assert.Equal(3002, c.Count);
        }
    }

    [Theory]
    [InlineData("delete")]
    [InlineData("flip-middle")]
    [InlineData("truncate")]
    public void ADamagedOrMissingQueriesFileIsRefusedNamingIt(string damage)
    {
        var dir = TestData.TempDir();
        using (var db = Open(dir))
        {
            var (c, queries) = Loaded(db);
            c.TuneSearchOnQueries(0.9, queries);
        }
        string path = Path.Combine(CollectionDir(dir), TuningFiles(dir).Single());
        var bytes = File.ReadAllBytes(path);
        switch (damage)
        {
            case "delete": File.Delete(path); break;
            case "flip-middle": bytes[bytes.Length / 2] ^= 0x20; File.WriteAllBytes(path, bytes); break;
            case "truncate": File.WriteAllBytes(path, bytes[..^40]); break;
        }
        var e = Assert.Throws<StoreCorruptedException>(() => Open(dir).Dispose());
        Assert.Contains(Path.GetFileName(path), e.Message);
    }

    /// <summary>
    /// A directory of the previous release (snapshot version 8: no drift reservoir flag, no tuning section) opens: the
    /// version-9 snapshot of a collection that never tuned and has no drift sensors, rewritten as version 8 (both
    /// removed, length and hash fixed).
    /// </summary>
    [Fact]
    public void AVersion8SnapshotOpensWithoutTuning()
    {
        var dir = TestData.TempDir();
        var data = SyntheticData.Clustered(3200, Dim, seed: 61);
        using (var db = Open(dir))
        {
            var c = db.CreateCollection("c", Opts());
            c.UpsertBatch(Enumerable.Range(0, 3000).Select(i => (ulong)i).ToArray(), data.Slice(0, 3000));
            db.Snapshot();
            Crash(db);
        }
        RewriteAsVersion8(Directory.GetFiles(CollectionDir(dir), "snap-*.vss").Single());
        using (var db = Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(3000, c.Count);
            Assert.Null(c.KeptTuningQueries);
            Assert.False(c.HasTunedSearch(0.9));
            Assert.Equal(7ul, c.Search(data.Row(7), new SearchOptions { K = 1, Rerank = 20 })[0].Id);
            c.Upsert(3000, data.Row(3000));
            db.Snapshot(); // and the next checkpoint writes the current version
            Assert.Equal(SnapshotFile.FormatVersion, BinaryPrimitives.ReadUInt32LittleEndian(File.ReadAllBytes(Directory.GetFiles(CollectionDir(dir), "snap-*.vss").Single()).AsSpan(8)));
        }
    }

    /// <summary>
    /// Rewrites a version-9 snapshot of a collection without drift state, reservoir file, tuning queries or settings
    /// as the version-8 snapshot the previous release wrote for the same state (checked byte by byte on the way).
    /// </summary>
    internal static void RewriteAsVersion8(string snap)
    {
        var v9 = File.ReadAllBytes(snap);
        Assert.Equal(9u, BinaryPrimitives.ReadUInt32LittleEndian(v9.AsSpan(8)));
        // [.. i32 0 (no drift state), u8 0 (no drift reservoir file), i32 53 + the policy, u8 0 (no queries file),
        // i32 0 (no settings), i64 M, u64 hash, "VSSNAPEN"]: version 8 has neither the reservoir flag nor the tuning.
        int tuning = v9.Length - 16 - 8 - 5;
        Assert.Equal(new byte[5], v9[tuning..(tuning + 5)]);
        int reservoirFlag = tuning - 53 - 4 - 1;
        Assert.Equal(53, BinaryPrimitives.ReadInt32LittleEndian(v9.AsSpan(reservoirFlag + 1)));
        Assert.Equal(0, v9[reservoirFlag]);
        Assert.Equal(0, BinaryPrimitives.ReadInt32LittleEndian(v9.AsSpan(reservoirFlag - 4)));
        var v8 = v9[..reservoirFlag].Concat(v9[(reservoirFlag + 1)..tuning]).Concat(v9[(tuning + 5)..]).ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(v8.AsSpan(8), 8);
        long m = BinaryPrimitives.ReadInt64LittleEndian(v8.AsSpan(v8.Length - 24));
        BinaryPrimitives.WriteInt64LittleEndian(v8.AsSpan(v8.Length - 24), m - 6);
        BinaryPrimitives.WriteUInt64LittleEndian(v8.AsSpan(v8.Length - 16), XxHash64.HashToUInt64(v8.AsSpan(0, v8.Length - 16)));
        File.WriteAllBytes(snap, v8);
    }
}
