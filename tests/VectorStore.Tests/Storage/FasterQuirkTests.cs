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
    public void EmptyCommitFileRecoversEveryAcknowledgedWriteFromTheIntactSegment()
    {
        // FASTER 2.6.5 reopens an empty log when its commit metadata is gone; the entries are still in the segment,
        // chained from the begin the durable-tail record anchors, so recovery reads them past FASTER's metadata.
        var dir = LoadedThenCrashed();
        var commit = CorruptionMatrixTests.Locate(dir, "commit");
        File.WriteAllBytes(commit, []);
        var db = Open(dir);
        AssertHas(db.GetCollection("c"), Vectors(400, 16, 3), 0, 400);
        Assert.Equal(400, db.GetCollection("c").Count);
        Crash(db);
        // What was read past the metadata was committed again: the next open finds it through FASTER.
        using var again = Open(dir);
        Assert.Equal(400, again.GetCollection("c").Count);
        Assert.True(again.StoreOf("c")!.Wal.CommittedAddress > 64);
    }

    [Fact]
    public void EmptyCommitFileIsRefusedWhenTheSegmentDoesNotHoldEveryAcknowledgedEntry()
    {
        var dir = LoadedThenCrashed();
        var commit = CorruptionMatrixTests.Locate(dir, "commit");
        File.WriteAllBytes(commit, []);
        var last = LogLayout.Entries(dir).Last();
        LogLayout.ZeroLength(dir, last.Address);
        var e = Assert.Throws<StoreCorruptedException>(() => Open(dir));
        Assert.Contains("acknowledged", e.Message);
        Assert.Contains(Path.GetFileName(commit), e.Message);
    }

    [Fact]
    public void CommitFileRewoundToAnOlderStateLosesNothing()
    {
        // A commit file whose content is valid but older (FASTER checks no checksum): the entries after its address
        // are intact and continue the chain, so recovery reads on to the acknowledged end.
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
        using var reopened = Open(dir);
        AssertHas(reopened.GetCollection("c"), Vectors(100, 16, 3), 0, 100);
        AssertHas(reopened.GetCollection("c"), Vectors(100, 16, 4), 100, 100);
    }

    [Fact]
    public void SegmentReaderLaysOutEntriesExactlyAsFasterScansThem()
    {
        // Recovery reads past FASTER's committed address with its own reader of FASTER's layout (header, 4-byte
        // alignment, page padding); it must agree with FASTER's scan entry for entry, across page boundaries.
        var dir = TestData.TempDir();
        var db = Open(dir);
        var c = db.CreateCollection("c", Options());
        var rng = new Random(5);
        ulong id = 0;
        for (int b = 0; b < 60; b++)
        {
            int n = 1 + rng.Next(120);
            Load(c, Vectors(n, 16, b), id, n);
            id += (ulong)n;
            if (b % 7 == 0) c.Delete(id - 1);
        }
        var wal = db.StoreOf("c")!.Wal;
        var faster = wal.Scan(wal.BeginAddress, wal.CommittedAddress).Select(e => e.Address).ToList();
        Crash(db);
        var raw = LogLayout.Entries(dir).Select(e => e.Address).ToList();
        Assert.Equal(faster, raw);
        Assert.True(faster.Select(a => a >> Small.Wal.PageSizeBits).Distinct().Count() >= 4, "the entries span too few pages to test padding");
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
        var record = tail.Read();
        Assert.Equal(wal.TailAddress, record.Durable);
        // It names the last acknowledged entry: one upsert chunk per batch, sequence numbers from 1.
        Assert.True(record.Framed);
        Assert.Equal(2UL, record.DurablePoint.Sequence);
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
        // The open that holds it is in this process: the message must not send the user looking for another one only.
        Assert.Contains("the database is open elsewhere (in another process, or by another open in this one)", e.Message);
    }
}
