using VectorStore.Collections;
using VectorStore.Filtering;
using VectorStore.Tests.Cli;
using Xunit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// A database directory whose MANIFEST is gone but whose collections are still there must never be taken for a new
/// database: that would hide every collection, and creating one of the same name would delete its files (issue 20).
/// </summary>
public sealed class MissingManifestTests
{
    [Fact]
    public void EveryOpenPathRefusesAndNoDataChanges()
    {
        var dir = TestData.TempDir();
        var data = StorageTestKit.Vectors(400, 8, 2);
        using (var db = StorageTestKit.Open(dir))
        {
            var c = db.CreateCollection("kept", StorageTestKit.Options(8));
            StorageTestKit.Load(c, data, 0, 100);
        }
        File.Delete(Path.Combine(dir, "MANIFEST"));
        var collectionFiles = Directory.EnumerateFiles(Path.Combine(dir, "collections"), "*", SearchOption.AllDirectories)
            .ToDictionary(f => f, File.ReadAllBytes);

        var e = Assert.Throws<StoreCorruptedException>(() => StorageTestKit.Open(dir));
        Assert.EndsWith("MANIFEST", e.Path);
        Assert.Contains("manifest is missing", e.Message);
        Assert.Contains("kept", e.Message);
        var ro = Assert.Throws<StoreCorruptedException>(() => VectorDatabase.OpenReadOnly(dir));
        Assert.Contains("manifest is missing", ro.Message);

        var create = CliRunner.Run("create", "--db", dir, "--collection", "kept", "--dim", "8");
        Assert.Equal(2, create.Code);
        Assert.Contains("manifest is missing", create.Stderr);
        var info = CliRunner.Run("info", "--db", dir);
        Assert.Equal(2, info.Code);
        Assert.Contains("manifest is missing", info.Stderr);

        Assert.False(File.Exists(Path.Combine(dir, "MANIFEST")));
        foreach (var (path, bytes) in collectionFiles) Assert.Equal(bytes, File.ReadAllBytes(path));
    }

    [Fact]
    public void RecoverRebuildsTheManifestFromTheCollectionDirectoriesWithEveryAcknowledgedWrite()
    {
        var dir = TestData.TempDir();
        var a = StorageTestKit.Vectors(600, 8, 3);
        var b = StorageTestKit.Vectors(300, 12, 4);
        var bOptions = new CollectionOptions
        {
            Dimension = 12, Metric = Metric.Cosine, Compression = "pq:4", Index = "hnsw:12", TrainingThreshold = 200, Seed = 9,
            RawVectors = RawVectorResidency.Ram,
            Fields = [new FieldDefinition("lang", FieldType.Keyword)],
        };
        var db = StorageTestKit.Open(dir);
        var ca = db.CreateCollection("a", StorageTestKit.Options(8));
        StorageTestKit.Load(ca, a.Slice(0, 400), 0, 100);
        db.Snapshot(); // "a": a snapshot, then more in the log
        StorageTestKit.Load(ca, a.Slice(400, 200), 400, 100);
        ca.Delete(7);
        var cb = db.CreateCollection("b", bOptions);
        for (int i = 0; i < 300; i += 50)
        {
            var ids = Enumerable.Range(i, 50).Select(x => (ulong)x).ToArray();
            cb.UpsertBatch(ids, b.Slice(i, 50), null, ids.Select(x => (IReadOnlyDictionary<string, FieldValue>?)new Dictionary<string, FieldValue> { ["lang"] = FieldValue.Keyword(x % 2 == 0 ? "en" : "de") }).ToArray());
        }
        var expectedB = Enumerable.Range(0, 300).Select(i => cb.Get((ulong)i)!.Vector).ToArray();
        StorageTestKit.Crash(db); // "b": only in the log
        File.Delete(Path.Combine(dir, "MANIFEST"));

        var refused = Assert.Throws<StoreCorruptedException>(() => StorageTestKit.Open(dir));
        Assert.Contains("vectorstore recover --db", refused.Message);
        Assert.Contains("VectorDatabase.RecoverManifest", refused.Message);

        var recovered = VectorDatabase.RecoverManifest(dir);
        Assert.Equal(new Dictionary<string, int> { ["a"] = 599, ["b"] = 300 }, recovered);
        using var reopened = StorageTestKit.Open(dir);
        var ra = reopened.GetCollection("a");
        Assert.Equal(StorageTestKit.Options(8), ra.Options with { RawVectors = null });
        Assert.Null(ra.Get(7));
        StorageTestKit.AssertHas(ra, a.Slice(8, 592), 8, 592);
        var rb = reopened.GetCollection("b");
        Assert.Equal(bOptions.Metric, rb.Options.Metric);
        Assert.Equal(bOptions.Compression, rb.Options.Compression);
        Assert.Equal(bOptions.Index, rb.Options.Index);
        Assert.Equal(bOptions.Seed, rb.Options.Seed);
        Assert.Equal(RawVectorResidency.Ram, rb.Options.RawVectors);
        Assert.Equal("lang:keyword", Assert.Single(rb.Options.Fields!).ToString());
        for (int i = 0; i < 300; i++) Assert.Equal(expectedB[i], rb.Get((ulong)i)!.Vector);
        Assert.Equal(150, rb.Search(b.Row(0).ToArray(), new SearchOptions { K = 300, Filter = new SearchFilter { Where = Filter.Eq("lang", "en") } }).Length);
    }

    [Fact]
    public void RecoverLeavesNoManifestWhenTheDataDoesNotVerifyAndRefusesWhenThereIsOne()
    {
        var dir = TestData.TempDir();
        using (var db = StorageTestKit.Open(dir))
        {
            var c = db.CreateCollection("c", StorageTestKit.Options(8));
            StorageTestKit.Load(c, StorageTestKit.Vectors(300, 8, 5), 0, 100);
        }
        var again = CliRunner.Run("recover", "--db", dir);
        Assert.Equal(1, again.Code);
        Assert.Contains("move it aside (keep it) and run recover again", again.Stderr);

        // The clean close left one snapshot and truncated the log: damage the snapshot, lose the manifest.
        File.Delete(Path.Combine(dir, "MANIFEST"));
        var snap = Directory.GetFiles(Path.Combine(dir, "collections", "c"), "snap-*.vss").Single();
        var bytes = File.ReadAllBytes(snap);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(snap, bytes);
        var e = Assert.Throws<StoreCorruptedException>(() => VectorDatabase.RecoverManifest(dir));
        Assert.Contains(Path.Combine(dir, "collections", "c"), e.Message);
        Assert.False(File.Exists(Path.Combine(dir, "MANIFEST")));
    }

    /// <summary>
    /// An open never reads vector rows, so <c>recover</c> alone passes a damaged one; <c>--verify</c> reads every row
    /// and names the damaged segment (exit 2), with the manifest rebuilt either way.
    /// </summary>
    [Fact]
    public void RecoverVerifyReadsEveryRowAndNamesADamagedSegment()
    {
        var dir = TestData.TempDir();
        using (var db = StorageTestKit.Open(dir))
        {
            var c = db.CreateCollection("c", StorageTestKit.Options(32));
            StorageTestKit.Load(c, StorageTestKit.Vectors(800, 32, 7), 0, 200);
            db.Compact("c");
        }
        File.Delete(Path.Combine(dir, "MANIFEST"));
        var clean = CliRunner.Run("recover", "--db", dir, "--verify");
        Assert.True(clean.Code == 0, clean.Stderr);
        Assert.Equal("recovered c 800 verified", clean.Stdout.Trim());

        File.Delete(Path.Combine(dir, "MANIFEST"));
        string segment = Directory.GetFiles(Path.Combine(dir, "collections", "c"), "seg-*.vsg").OrderByDescending(f => new FileInfo(f).Length).First();
        CorruptionMatrixTests.Damage(segment, "flip-middle"); // inside a vector row
        var unverified = CliRunner.Run("recover", "--db", dir);
        Assert.Equal(0, unverified.Code); // what an open checks holds: the row tables, not the rows
        File.Delete(Path.Combine(dir, "MANIFEST"));
        var damaged = CliRunner.Run("recover", "--db", dir, "--verify", "--json");
        Assert.Equal(2, damaged.Code);
        Assert.Contains(Path.GetFileName(segment), damaged.Stderr);
        Assert.DoesNotContain("\"verified\":true", damaged.Stdout);
        Assert.True(File.Exists(Path.Combine(dir, "MANIFEST")));
    }

    [Fact]
    public void RecoverOverTheCliPrintsEachCollectionAndACollectionFromBeforeDescriptorsGetsOneWhenOpened()
    {
        var dir = TestData.TempDir();
        using (var db = StorageTestKit.Open(dir))
        {
            var c = db.CreateCollection("c", StorageTestKit.Options(8));
            StorageTestKit.Load(c, StorageTestKit.Vectors(250, 8, 6), 0, 50);
        }
        string descriptor = Path.Combine(dir, "collections", "c", "COLLECTION");
        Assert.True(File.Exists(descriptor));
        File.Delete(descriptor); // as a collection created before descriptors existed
        using (StorageTestKit.Open(dir)) { }
        Assert.True(File.Exists(descriptor));
        File.Delete(Path.Combine(dir, "MANIFEST"));
        var r = CliRunner.Run("recover", "--db", dir);
        Assert.Equal(0, r.Code);
        Assert.Equal("recovered c 250", r.Stdout.Trim());
        var info = CliRunner.Run("info", "--db", dir);
        Assert.Equal(0, info.Code);
    }

    [Fact]
    public void AnEmptyDirectoryStillBecomesANewDatabase()
    {
        var dir = TestData.TempDir();
        using (var db = StorageTestKit.Open(dir)) Assert.Empty(db.CollectionNames);
        Assert.True(File.Exists(Path.Combine(dir, "MANIFEST")));
        // A crash after the collections folder was made but before the first manifest: still new, not lost.
        var other = TestData.TempDir();
        Directory.CreateDirectory(Path.Combine(other, "collections"));
        using (var db = StorageTestKit.Open(other)) Assert.Empty(db.CollectionNames);
    }
}
