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
