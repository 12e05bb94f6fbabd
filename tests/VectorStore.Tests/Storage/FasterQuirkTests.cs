using VectorStore.Storage;
using Xunit;
using static VectorStore.Tests.Storage.StorageTestKit;

namespace VectorStore.Tests.Storage;

/// <summary>The defences against FASTER 2.6.5's known behaviours, each exercised directly.</summary>
public sealed class FasterQuirkTests
{
    private static string LoadedThenCrashed(int count = 400)
    {
        var dir = TestData.TempDir();
        var db = Open(dir);
        Load(db.CreateCollection("c", Options()), Vectors(count, 16, 3), 0, 40);
        Crash(db);
        return dir;
    }

    [Fact]
    public void EmptyNewestCommitFileIsRefusedInsteadOfOpeningAnEmptyLog()
    {
        var dir = LoadedThenCrashed();
        var commit = CorruptionMatrixTests.Locate(dir, "commit");
        File.WriteAllBytes(commit, []);
        var e = Assert.Throws<StoreCorruptedException>(() => Open(dir));
        Assert.Contains("acknowledged", e.Message);
        Assert.Contains(Path.GetFileName(commit), e.Message);
    }

    [Fact]
    public void CommitFileRewoundToAnOlderStateIsRefused()
    {
        // A commit file whose content is valid but older (FASTER checks no checksum) must not silently lose writes.
        var dir = TestData.TempDir();
        var db = Open(dir);
        var c = db.CreateCollection("c", Options());
        Load(c, Vectors(100, 16, 3), 0, 50);
        var commit = CorruptionMatrixTests.Locate(dir, "commit");
        var older = File.ReadAllBytes(commit);
        Load(c, Vectors(100, 16, 4), 100, 50);
        Crash(db);
        var newest = CorruptionMatrixTests.Locate(dir, "commit");
        File.WriteAllBytes(newest, older);
        var e = Assert.Throws<StoreCorruptedException>(() => Open(dir));
        Assert.Contains(Path.GetFileName(newest), e.Message);
    }

    [Fact]
    public void TruncationInsideARecordIsRejected()
    {
        var dir = TestData.TempDir();
        using var db = Open(dir);
        var c = db.CreateCollection("c", Options());
        Load(c, Vectors(100, 16, 3), 0, 50);
        var wal = db.StoreOf("c")!.Wal;
        long boundary = wal.CaptureBoundary();
        Load(c, Vectors(100, 16, 4), 100, 50);
        Assert.Throws<InvalidOperationException>(() => wal.TruncateBefore(boundary + 8));
        wal.TruncateBefore(boundary);
        Assert.Equal(boundary, wal.BeginAddress);
        // The log still scans cleanly from the new begin.
        Assert.NotEmpty(wal.Scan(wal.BeginAddress, wal.CommittedAddress).ToList());
    }

    [Fact]
    public void DurableTailIsFsyncedAfterEveryAcknowledgedWrite()
    {
        var dir = TestData.TempDir();
        using var db = Open(dir);
        var c = db.CreateCollection("c", Options());
        Load(c, Vectors(10, 16, 3), 0, 10);
        var wal = db.StoreOf("c")!.Wal;
        using var tail = DurableTailReader(wal.DurableTailPath);
        Assert.Equal(wal.TailAddress, tail.Read().Durable);
    }

    private static DurableTail DurableTailReader(string path)
    {
        var copy = path + ".copy";
        File.Copy(path, copy, overwrite: true);
        return DurableTail.Open(copy);
    }

    [Fact]
    public void CommitMetadataIsWrittenOnlyAfterTheLogDataIsSyncedAndSurvivesATornSlot()
    {
        var path = Path.Combine(TestData.TempDir(), SlotCommitManager.FileName);
        using (var m = new SlotCommitManager(path))
        {
            var calls = new List<long>();
            m.BeforeCommit = until =>
            {
                // The data sync runs first: no metadata for this commit may exist yet.
                Assert.DoesNotContain(calls.Count + 1L, m.ListCommits());
                calls.Add(until);
            };
            m.Commit(64, 1000, [1, 2, 3], 1, false);
            m.Commit(64, 2000, [4, 5], 2, false);
            Assert.Equal([1000L, 2000L], calls);
            Assert.Equal([2L, 1L], m.ListCommits());
            Assert.Equal(new byte[] { 4, 5 }, m.GetCommitMetadata(2));
        }
        // Tear the newest slot (the second one written): recovery falls back to the older, intact commit.
        var bytes = File.ReadAllBytes(path);
        bytes[SlotCommitManager.SlotSize + 21] ^= 0xFF;
        File.WriteAllBytes(path, bytes);
        using var reopened = new SlotCommitManager(path);
        Assert.Equal([1L], reopened.ListCommits());
        Assert.Equal(new byte[] { 1, 2, 3 }, reopened.GetCommitMetadata(1));
    }

    [Fact]
    public void NewerManifestVersionIsRefusedWithAClearError()
    {
        var dir = TestData.TempDir();
        Open(dir).Dispose();
        var path = Path.Combine(dir, "MANIFEST");
        var bytes = File.ReadAllBytes(path);
        bytes[8] = 99;
        Checksums.WriteCrc(bytes, bytes.Length - 4);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<StoreCorruptedException>(() => Open(dir));
        Assert.Contains("newer", e.Message);
        Assert.Contains("MANIFEST", e.Message);
    }

    [Fact]
    public void SecondOpenOfTheSameDirectoryIsRefused()
    {
        var dir = TestData.TempDir();
        using var db = Open(dir);
        var e = Assert.Throws<VectorStoreException>(() => Open(dir));
        Assert.Contains("another process", e.Message);
    }
}
