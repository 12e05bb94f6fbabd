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
