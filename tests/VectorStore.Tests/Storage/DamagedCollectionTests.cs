using VectorStore.Collections;
using VectorStore.Storage;
using Xunit;
using static VectorStore.Tests.Storage.StorageTestKit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// <see cref="DatabaseOptions.SetAsideDamagedCollections"/>: one collection whose files cannot be opened refuses the
/// whole open by default; set aside, the others are served, the damaged one throws its error naming its file on every
/// call, its files stay untouched, and dropping it is how the database is rid of it.
/// </summary>
public sealed class DamagedCollectionTests
{
    private const int Dim = 16, Count = 400;

    private static DatabaseOptions SetAside => new() { CheckpointWhenIdle = TimeSpan.Zero, SetAsideDamagedCollections = true };

    /// <summary>Collections "a" and "b", each of 400 vectors in a segment; b's segment then truncated to nothing. Returns the directory and that file.</summary>
    internal static (string Dir, string Damaged) TwoCollectionsOneDamaged()
    {
        var dir = TestData.TempDir();
        using (var db = Open(dir))
        {
            foreach (var (name, seed) in new[] { ("a", 1), ("b", 2) })
            {
                Load(db.CreateCollection(name, Options(Dim)), Vectors(Count, Dim, seed), 0, 100);
                db.Compact(name);
            }
        }
        string segment = Directory.GetFiles(Path.Combine(dir, "collections", "b"), "seg-*.vsg").Single();
        File.WriteAllBytes(segment, []);
        return (dir, segment);
    }

    private static Dictionary<string, byte[]> FilesOf(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);

    [Fact]
    public void ByDefaultTheOpenIsRefusedNamingTheFile()
    {
        var (dir, damaged) = TwoCollectionsOneDamaged();
        var e = Assert.Throws<StoreCorruptedException>(() => Open(dir));
        Assert.Equal(damaged, e.Path);
        Assert.Empty(HeldUnder(dir));
    }

    [Fact]
    public void SetAsideTheOthersAreServedAndTheDamagedOneSaysWhyOnEveryCall()
    {
        var (dir, damaged) = TwoCollectionsOneDamaged();
        var bFiles = FilesOf(Path.Combine(dir, "collections", "b"));
        using (var db = VectorDatabase.Open(dir, SetAside, Small))
        {
            Assert.Equal(["a"], db.CollectionNames);
            var set = Assert.Single(db.DamagedCollections);
            Assert.Equal("b", set.Key);
            Assert.Equal(damaged, Assert.IsType<StoreCorruptedException>(set.Value).Path);
            Assert.DoesNotContain(HeldUnder(dir), f => f.StartsWith(Path.Combine(dir, "collections", "b"), StringComparison.Ordinal));

            foreach (var call in new Action[]
            {
                () => db.GetCollection("b"),
                () => db.TryGetCollection("b", out _),
                () => db.GetOrCreateCollection("b", Options(Dim)),
                () => db.Compact("b"),
                () => db.DiskBytes("b"),
            })
            {
                var e = Assert.Throws<StoreCorruptedException>(call);
                Assert.Equal(damaged, e.Path);
                Assert.Contains("collection 'b' was set aside when the database opened", e.Message);
                Assert.Contains(set.Value.Message[(damaged.Length + 2)..], e.Message);
            }
            Assert.True(db.CollectionExists("b"));
            Assert.Contains("drop it first", Assert.Throws<InvalidArgumentException>(() => db.CreateCollection("b", Options(Dim))).Message);

            // The others work as ever: read, write, snapshot.
            var a = db.GetCollection("a");
            AssertHas(a, Vectors(Count, Dim, 1), 0, Count);
            Load(a, Vectors(50, Dim, 3), Count, 50);
            db.Snapshot();
        }
        // Nothing of the damaged collection was touched: a restore or a later release still finds it as it was.
        Assert.Equal(bFiles, FilesOf(Path.Combine(dir, "collections", "b")));
        Assert.Throws<StoreCorruptedException>(() => Open(dir));

        using (var db = VectorDatabase.OpenReadOnly(dir, SetAside))
        {
            Assert.Equal(["a"], db.CollectionNames);
            Assert.Equal(Count + 50, db.GetCollection("a").Count);
            Assert.Equal(damaged, Assert.Throws<StoreCorruptedException>(() => db.GetCollection("b")).Path);
            Assert.Throws<ReadOnlyDatabaseException>(() => db.DropCollection("b"));
        }
    }

    [Fact]
    public void DroppingTheDamagedCollectionRidsTheDatabaseOfIt()
    {
        var (dir, _) = TwoCollectionsOneDamaged();
        using (var db = VectorDatabase.Open(dir, SetAside, Small))
        {
            Assert.True(db.DropCollection("b"));
            Assert.Empty(db.DamagedCollections);
            Assert.False(db.CollectionExists("b"));
            Assert.False(Directory.Exists(Path.Combine(dir, "collections", "b")));
            Assert.False(db.DropCollection("b"));
        }
        using (var db = Open(dir))
        {
            Assert.Equal(["a"], db.CollectionNames);
            Load(db.CreateCollection("b", Options(Dim)), Vectors(10, Dim, 4), 0, 10);
        }
        using (var db = Open(dir))
        {
            AssertHas(db.GetCollection("a"), Vectors(Count, Dim, 1), 0, Count);
            AssertHas(db.GetCollection("b"), Vectors(10, Dim, 4), 0, 10);
        }
    }

    /// <summary>Runs chattr; false when it is missing or refused (no root, a file system without the attribute).</summary>
    private static bool Chattr(string flag, string path)
    {
        try
        {
            using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("chattr", [flag, path]) { RedirectStandardError = true });
            p!.WaitForExit();
            return p.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>
    /// A set-aside collection whose files cannot be deleted (the case most likely for a collection set aside for an
    /// I/O error): the drop unlists it, says typed which directory is left, and the name can be created again.
    /// </summary>
    [SkippableFact]
    public void ADropWhoseFilesCannotBeDeletedStillRidsTheDatabaseOfTheName()
    {
        var (dir, damaged) = TwoCollectionsOneDamaged();
        Skip.IfNot(OperatingSystem.IsLinux() && Chattr("+i", damaged), "needs chattr +i (root on a file system with the immutable attribute)");
        try
        {
            using var db = VectorDatabase.Open(dir, SetAside, Small);
            var e = Assert.Throws<StorageIoException>(() => db.DropCollection("b"));
            Assert.Equal(Path.Combine(dir, "collections", "b"), e.Path);
            Assert.Contains("could not be deleted", e.Message);
            Assert.Empty(db.DamagedCollections);
            Assert.False(db.CollectionExists("b"));
            Assert.False(db.DropCollection("b"));
        }
        finally
        {
            Chattr("-i", damaged);
        }
        using (var db = Open(dir))
        {
            Assert.Equal(["a"], db.CollectionNames);
            Load(db.CreateCollection("b", Options(Dim)), Vectors(10, Dim, 4), 0, 10);
        }
        using (var db = Open(dir)) AssertHas(db.GetCollection("b"), Vectors(10, Dim, 4), 0, 10);
    }
}
