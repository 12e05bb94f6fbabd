using VectorStore.Collections;
using VectorStore.Storage;
using Xunit;
using static VectorStore.Tests.Storage.StorageTestKit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// Out-of-core collections: vectors sealed into segment files, read through memory mapping (disk residency) or held
/// resident (ram); checkpoints that write only what changed, merges that reclaim, background checkpoints, lifecycle.
/// </summary>
public sealed class SegmentTests
{
    private const int Dim = 16;

    private static CollectionOptions Opts(RawVectorResidency? r, int threshold = 300, string index = "flat", string compression = "sq8") =>
        Options(Dim, threshold, compression) with { RawVectors = r, Index = index };

    [Theory]
    [InlineData(RawVectorResidency.Disk)]
    [InlineData(RawVectorResidency.Ram)]
    public void ReopenedCollectionHasEveryVectorBitIdenticalFromItsSegments(RawVectorResidency residency)
    {
        var dir = TestData.TempDir();
        var a = Vectors(900, Dim, 1);
        var b = Vectors(300, Dim, 2);
        using (var db = Open(dir))
        {
            var c = db.CreateCollection("c", Opts(residency));
            Assert.Equal(residency, c.Options.RawVectors);
            Load(c, a, 0, 100);
            db.Compact("c");
            Load(c, b, 900, 100);
            Assert.True(c.Delete(5));
        }
        string cdir = Path.Combine(dir, "collections", "c");
        var segs = Directory.GetFiles(cdir, "seg-*.vsg");
        Assert.NotEmpty(segs);
        // The snapshot no longer carries vectors: it is far smaller than the vectors it covers.
        Assert.True(new FileInfo(Directory.GetFiles(cdir, "snap-*.vss").Single()).Length < 1200L * Dim * 4);
        using var again = Open(dir);
        var c2 = again.GetCollection("c");
        Assert.Equal(residency, c2.Options.RawVectors);
        Assert.Equal(1199, c2.Count);
        Assert.Null(c2.Get(5));
        AssertHas(c2, a.Slice(6, 894), 6, 894);
        AssertHas(c2, b, 900, 300);
        Assert.Equal(residency, c2.GetStats().RawVectors);
        Assert.True(c2.GetStats().DiskBytes > 0);
    }

    /// <summary>
    /// Payloads live with their vectors: out of core a checkpoint moves them into the segment and the collection stops
    /// holding them (resident bytes drop by about their size), while a resident collection keeps them in memory; both
    /// return every payload, from search hits and after a reopen.
    /// </summary>
    [Theory]
    [InlineData(RawVectorResidency.Disk)]
    [InlineData(RawVectorResidency.Ram)]
    public void PayloadsLeaveMemoryWithTheirVectorsOutOfCore(RawVectorResidency residency)
    {
        const int N = 600, PayloadBytes = 2048;
        var dir = TestData.TempDir();
        var data = Vectors(N, Dim, 31);
        var ids = Enumerable.Range(0, N).Select(i => (ulong)i).ToArray();
        byte[] PayloadOf(ulong id) => Enumerable.Range(0, PayloadBytes).Select(i => (byte)(id * 31 + (ulong)i)).ToArray();
        using (var db = Open(dir))
        {
            var c = db.CreateCollection("c", Opts(residency));
            c.UpsertBatch(ids, data, ids.Select(PayloadOf).ToArray());
            long before = c.GetStats().ResidentBytes;
            Assert.True(before > (long)N * PayloadBytes, $"{residency}: {before} resident bytes before the checkpoint");
            db.Compact("c");
            long after = c.GetStats().ResidentBytes;
            if (residency == RawVectorResidency.Disk)
                Assert.True(after < (long)N * PayloadBytes / 4, $"disk: {after} resident bytes after the checkpoint, payloads alone are {N * PayloadBytes}");
            else Assert.True(after > (long)N * PayloadBytes, $"ram: {after} resident bytes after the checkpoint");
            var hit = c.Search(data.Row(17), new SearchOptions { K = 1, Rerank = 20, IncludePayload = true })[0];
            Assert.Equal(17UL, hit.Id);
            Assert.Equal(PayloadOf(17), hit.Payload);
        }
        using var again = Open(dir);
        var c2 = again.GetCollection("c");
        foreach (var id in ids) Assert.Equal(PayloadOf(id), c2.Get(id)!.Payload);
        Assert.True(Directory.GetFiles(Path.Combine(dir, "collections", "c"), "seg-*.vsg").Sum(f => new FileInfo(f).Length) > (long)N * PayloadBytes);
    }

    [Fact]
    public void DiskResidencyHoldsFarLessInMemoryAndAnswersLikeRam()
    {
        var dir = TestData.TempDir();
        var data = Vectors(3000, 64, 3);
        var ids = Enumerable.Range(0, 3000).Select(i => (ulong)i).ToArray();
        var stats = new Dictionary<RawVectorResidency, CollectionStats>();
        var answers = new Dictionary<RawVectorResidency, SearchHit[][]>();
        using var db = Open(dir);
        foreach (var r in new[] { RawVectorResidency.Disk, RawVectorResidency.Ram })
        {
            var c = db.CreateCollection($"c{r}", new CollectionOptions { Dimension = 64, Metric = Metric.L2, Compression = "pq:16x4", Index = "ivf:16", TrainingThreshold = 3000, RawVectors = r });
            c.UpsertBatch(ids, data);
            db.Compact(c.Name);
            stats[r] = c.GetStats();
            var before = c.Vectors.DiskReads;
            answers[r] = c.SearchBatch(data.Slice(0, 50), new SearchOptions { K = 10, Rerank = 40 });
            long reads = c.Vectors.DiskReads - before;
            if (r == RawVectorResidency.Disk) Assert.True(reads >= 50 * 10, $"{reads} disk reads for 50 re-ranked queries");
            else Assert.Equal(0, reads);
        }
        for (int q = 0; q < 50; q++) Assert.Equal(answers[RawVectorResidency.Ram][q], answers[RawVectorResidency.Disk][q]);
        long rawBytes = 3000L * 64 * 4;
        Assert.True(stats[RawVectorResidency.Ram].ResidentBytes - stats[RawVectorResidency.Disk].ResidentBytes >= rawBytes * 9 / 10,
            $"ram {stats[RawVectorResidency.Ram].ResidentBytes} vs disk {stats[RawVectorResidency.Disk].ResidentBytes}");
    }

    [Fact]
    public void CompactAfterFiveOverwritesIsWithinOnePointThreeOfAFreshLoad()
    {
        const int n = 1000, dim = 384;
        var fresh = TestData.TempDir();
        var churned = TestData.TempDir();
        var ids = Enumerable.Range(0, n).Select(i => (ulong)i).ToArray();
        long freshBytes, churnedBytes;
        using (var db = Open(fresh))
        {
            var c = db.CreateCollection("c", Options(dim) with { Index = "flat" });
            c.UpsertBatch(ids, Vectors(n, dim, 1));
            db.Compact("c");
            freshBytes = db.DiskBytes("c");
        }
        using (var db = Open(churned))
        {
            var c = db.CreateCollection("c", Options(dim) with { Index = "flat" });
            for (int round = 0; round < 6; round++)
            {
                c.UpsertBatch(ids, Vectors(n, dim, 1 + round));
                db.Snapshot(); // a checkpoint per round: five generations of dead rows in segments
            }
            db.Compact("c");
            churnedBytes = db.DiskBytes("c");
            var last = Vectors(n, dim, 6);
            for (int i = 0; i < n; i += 97) Assert.True(last.Row(i).SequenceEqual(c.Get((ulong)i)!.Vector));
        }
        Assert.True(churnedBytes <= freshBytes * 1.3, $"after five overwrites and compact: {churnedBytes} bytes, fresh load {freshBytes}");
        Assert.True(freshBytes <= n * dim * 4 * 1.3 + (1 << 20), $"fresh load {freshBytes} bytes for {n * dim * 4} bytes of vectors");
    }

    [Fact]
    public void BackgroundCheckpointsSealAndMergeWithoutLosingAnything()
    {
        var dir = TestData.TempDir();
        var settings = Small with { CheckpointAfterBufferedBytes = 20 * Dim * 4 };
        var data = Vectors(2000, Dim, 4);
        var db = Open(dir, settings);
        var c = db.CreateCollection("c", Opts(RawVectorResidency.Disk));
        Load(c, data, 0, 25);
        Load(c, data.Slice(0, 500), 0, 25); // overwrites: dead rows for merges
        var store = db.StoreOf("c")!;
        store.WaitForBackgroundCheckpoint();
        Assert.Null(store.LastCheckpointError);
        Assert.NotNull(store.Entry.Snapshot);
        // Merges keep the segment count bounded although each checkpoint seals a new one.
        Assert.True(Directory.GetFiles(store.Directory, "seg-*.vsg").Length <= SegmentedVectors.MaxSegments + 2);
        Crash(db);
        using var again = Open(dir, settings);
        AssertHas(again.GetCollection("c"), data, 0, 2000);
    }

    /// <summary>
    /// Closing a database while writers are mid-write: each writer ends (an acknowledgement or
    /// <see cref="ObjectDisposedException"/>, never a wait that does not return: FASTER spins forever committing or
    /// appending to a disposed log), and every acknowledged write is there after reopening.
    /// </summary>
    [Fact]
    public void ClosingUnderConcurrentWritersEndsEveryWriterAndKeepsEveryAck()
    {
        for (int round = 0; round < 5; round++)
        {
            var dir = TestData.TempDir();
            var data = Vectors(4 * 5000, Dim, 40 + round);
            var db = Open(dir);
            var c = db.CreateCollection("c", Opts(RawVectorResidency.Disk));
            var acked = new int[4];
            var errors = new Exception?[4];
            var writers = Enumerable.Range(0, 4).Select(w => new Thread(() =>
            {
                try
                {
                    for (int i = 0; i < 5000; i++)
                    {
                        int row = w * 5000 + i;
                        c.Upsert((ulong)row, data.Row(row));
                        Volatile.Write(ref acked[w], i + 1);
                    }
                }
                catch (Exception e) { errors[w] = e; }
            })).ToList();
            writers.ForEach(t => t.Start());
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (acked.Sum() < 200 + 100 * round && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(1);
            db.Dispose();
            foreach (var t in writers)
                Assert.True(t.Join(TimeSpan.FromSeconds(60)), $"round {round}: a writer did not end within 60 s of the close");
            foreach (var e in errors)
            {
                if (e is null) continue;
                Assert.IsType<ObjectDisposedException>(e);
                // What the application reads: why, not FASTER's "Log has been disposed" or an internal type's name.
                Assert.DoesNotContain("VectorStore.Storage.", e.Message);
                Assert.DoesNotContain("Log has been disposed", e.Message);
            }
            using var again = Open(dir);
            var c2 = again.GetCollection("c");
            for (int w = 0; w < 4; w++)
                AssertVectors(c2, data.Slice(w * 5000, acked[w]), (ulong)(w * 5000), acked[w]);
        }
    }

    [Fact]
    public void ACollectionOfADisposedDatabaseThrowsObjectDisposed()
    {
        var dir = TestData.TempDir();
        var db = Open(dir);
        var c = db.CreateCollection("c", Opts(null));
        Load(c, Vectors(10, Dim, 5), 0, 10);
        db.Dispose();
        var v = new float[Dim];
        Assert.Throws<ObjectDisposedException>(() => c.Upsert(99, v));
        Assert.Throws<ObjectDisposedException>(() => c.Delete(1));
        Assert.Throws<ObjectDisposedException>(() => c.Search(v));
        Assert.Throws<ObjectDisposedException>(() => c.Get(1));
        // Every call on the database fails alike: lookups answered from the closed objects, Compact silently did nothing.
        // (A stale handle's Count and GetStats still answer from memory: a stopped collection's must, while it reopens.)
        Assert.Throws<ObjectDisposedException>(() => db.Compact("c"));
        Assert.Throws<ObjectDisposedException>(() => db.GetCollection("c"));
        Assert.Throws<ObjectDisposedException>(() => db.TryGetCollection("c", out _));
        Assert.Throws<ObjectDisposedException>(() => db.CollectionExists("c"));
        Assert.Throws<ObjectDisposedException>(() => db.CollectionNames);
        Assert.Throws<ObjectDisposedException>(() => db.GetOrCreateCollection("c", Opts(null)));
        Assert.Throws<ObjectDisposedException>(() => db.CreateCollection("d", Opts(null)));
        Assert.Throws<ObjectDisposedException>(() => db.DropCollection("c"));
        Assert.Throws<ObjectDisposedException>(() => db.Snapshot());
        Assert.Throws<ObjectDisposedException>(() => db.Flush());
        db.Dispose(); // a second dispose is a no-op

        var mem = VectorDatabase.CreateInMemory();
        var m = mem.CreateCollection("m", Opts(null));
        Assert.Equal(RawVectorResidency.Ram, m.Options.RawVectors);
        mem.Dispose();
        Assert.Throws<ObjectDisposedException>(() => m.Upsert(1, v));
        Assert.Throws<ObjectDisposedException>(() => mem.CreateCollection("n", Opts(null)));
        Assert.Throws<ObjectDisposedException>(() => mem.GetCollection("m"));
    }

    [Fact]
    public void InMemoryDatabaseRefusesDiskResidency()
    {
        using var mem = VectorDatabase.CreateInMemory();
        Assert.Throws<InvalidArgumentException>(() => mem.CreateCollection("m", Opts(RawVectorResidency.Disk)));
    }

    [Fact]
    public void OrphanSegmentsOfAnUnpublishedCheckpointAreRemovedOnOpen()
    {
        var dir = TestData.TempDir();
        var data = Vectors(400, Dim, 6);
        var db = Open(dir);
        var c = db.CreateCollection("c", Opts(RawVectorResidency.Disk));
        Load(c, data, 0, 100);
        db.Compact("c");
        Crash(db);
        string cdir = Path.Combine(dir, "collections", "c");
        // What a crash between sealing a segment and publishing its snapshot leaves behind.
        File.WriteAllBytes(Path.Combine(cdir, SegmentFile.FileName(999)), new byte[4096]);
        File.WriteAllBytes(Path.Combine(cdir, SegmentFile.FileName(998) + ".tmp"), new byte[10]);
        using var again = Open(dir);
        AssertHas(again.GetCollection("c"), data, 0, 400);
        Assert.False(File.Exists(Path.Combine(cdir, SegmentFile.FileName(999))));
        Assert.False(File.Exists(Path.Combine(cdir, SegmentFile.FileName(998) + ".tmp")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RowsRewrittenOrFreedWhileTheBufferIsCopiedAreNotAdopted(bool resident)
    {
        var dir = TestData.TempDir();
        var data = Vectors(100, Dim, 9);
        var ids = Enumerable.Range(0, 100).Select(i => (ulong)(1000 + i)).ToArray();
        using var store = new SegmentedVectors(Dim, dir, resident);
        // Every third row without a payload; payloads of different lengths, so offsets in the payload region vary.
        static byte[]? PayloadOf(int s) => s % 3 == 0 ? null : Enumerable.Range(0, 1 + s % 17).Select(i => (byte)(s * 7 + i)).ToArray();
        for (int s = 0; s < 100; s++) store.Set(s, data.Row(s), PayloadOf(s));
        var pre = store.PreSeal(slot => ids[slot]);
        Assert.NotNull(pre);
        // What writers do between the copy and the checkpoint's lock.
        var newer = Vectors(1, Dim, 10);
        store.Set(5, newer.Row(0), [42, 43]);
        store.Remove(7);
        var segments = store.Seal(ids, 100, compact: false, pre);
        Assert.Equal(2, segments.Count);
        Assert.Equal((100, 1), (segments[0].Rows, segments[1].Rows));
        Assert.Equal(0, store.BufferedCount);
        Assert.True(newer.Row(0).SequenceEqual(store.Get(5)));
        Assert.Equal([42, 43], store.Payload(5));
        for (int s = 0; s < 100; s++)
            if (s is not (5 or 7))
            {
                Assert.True(data.Row(s).SequenceEqual(store.Get(s)), $"slot {s}");
                Assert.Equal(PayloadOf(s), store.Payload(s));
            }
        Assert.Equal(-1, store.Location(7));
        Assert.Equal(segments[1].Sequence, (int)(store.Location(5) >> 32));
        // Compacting rewrites the segment with the two dead rows; the fully live one stays: 99 rows in all.
        var compacted = store.Seal(ids, 100, compact: true);
        Assert.Equal(2, compacted.Count);
        Assert.Equal(99, compacted.Sum(c => c.Rows));
        Assert.DoesNotContain(compacted, c => c.Sequence == segments[0].Sequence);
        store.ReleaseRetired();
        Assert.True(newer.Row(0).SequenceEqual(store.Get(5)));
        Assert.Equal([42, 43], store.Payload(5));
        for (int s = 0; s < 100; s++)
            if (s is not (5 or 7))
            {
                Assert.True(data.Row(s).SequenceEqual(store.Get(s)), $"slot {s} after compaction");
                Assert.Equal(PayloadOf(s), store.Payload(s));
            }
    }

    /// <summary>
    /// Out of core, buffered vectors live in arena blocks that are reused once a checkpoint sealed their rows. A row
    /// written while the buffer was being copied stays in its block, and rows written after the checkpoint fill the
    /// freed blocks without disturbing it or anything sealed.
    /// </summary>
    [Fact]
    public void ArenaBlocksFreedByACheckpointTakeNewRowsWithoutDisturbingBufferedOnes()
    {
        const int dim = 1024; // 4 KiB rows: 2,500 fill eight arena blocks
        var dir = TestData.TempDir();
        var data = Vectors(5000, dim, 11);
        var ids = Enumerable.Range(0, 5000).Select(i => (ulong)i).ToArray();
        using var store = new SegmentedVectors(dim, dir, resident: false);
        for (int s = 0; s < 2500; s++) store.Set(s, data.Row(s), null);
        var pre = store.PreSeal(slot => ids[slot]);
        store.Seal(ids, 2500, compact: false, pre);
        // Written after the seal, before the checkpoint's release: stays buffered, in the block being filled.
        var newer = Vectors(1, dim, 12);
        store.Set(5, newer.Row(0), null);
        store.ReleaseRetired();
        Assert.Equal(1, store.BufferedCount);
        long held = store.ResidentBytes;
        for (int s = 2500; s < 5000; s++) store.Set(s, data.Row(s), null);
        Assert.True(newer.Row(0).SequenceEqual(store.Get(5)));
        for (int s = 0; s < 5000; s++)
            if (s != 5) Assert.True(data.Row(s).SequenceEqual(store.Get(s)), $"slot {s}");
        // 2,500 new rows fit in the freed blocks and the one being filled: no new arena memory beyond the location table.
        Assert.True(store.ResidentBytes - held < 1 << 20, $"{held} -> {store.ResidentBytes}");
        store.Seal(ids, 5000, compact: false);
        store.ReleaseRetired();
        Assert.Equal(0, store.BufferedCount);
        Assert.True(newer.Row(0).SequenceEqual(store.Get(5)));
        for (int s = 0; s < 5000; s++)
            if (s != 5) Assert.True(data.Row(s).SequenceEqual(store.Get(s)), $"slot {s} sealed");
    }

    /// <summary>
    /// Too many segments: the smallest are merged, not all but the largest. Large segments from a bulk load stay
    /// untouched while the small ones later checkpoints sealed are combined, and every row reads back.
    /// </summary>
    [Fact]
    public void TooManySegmentsMergeTheSmallestAndKeepTheLargeOnes()
    {
        var dir = TestData.TempDir();
        const int Large = 3, LargeRows = 400, Small = 16, SmallRows = 10;
        int total = Large * LargeRows + Small * SmallRows;
        var data = Vectors(total, Dim, 12);
        var ids = Enumerable.Range(0, total).Select(i => (ulong)(5000 + i)).ToArray();
        using var store = new SegmentedVectors(Dim, dir, resident: false);
        int slot = 0;
        IReadOnlyList<(int Sequence, int Rows)> segments = [];
        foreach (int rows in Enumerable.Repeat(LargeRows, Large).Concat(Enumerable.Repeat(SmallRows, Small)))
        {
            for (int i = 0; i < rows; i++, slot++) store.Set(slot, data.Row(slot), null);
            segments = store.Seal(ids, slot, compact: false);
        }
        // 19 segments after the last seal: more than 16, so that seal already merged the smallest.
        var large = segments.Where(s => s.Rows == LargeRows).Select(s => s.Sequence).ToArray();
        Assert.Equal(Large, large.Length);
        Assert.True(segments.Count <= SegmentedVectors.MaxSegments / 2 + 1, $"{segments.Count} segments");
        Assert.Equal(total, segments.Sum(s => s.Rows));
        store.ReleaseRetired();
        for (int s = 0; s < total; s++) Assert.True(data.Row(s).SequenceEqual(store.Get(s)), $"slot {s}");
    }

    /// <summary>
    /// Regression: closing while a background checkpoint was publishing deadlocked (the close held the database's
    /// gate and waited for the checkpoint, which waited for the gate to write the manifest).
    /// </summary>
    [Fact]
    public async Task DisposingWhileBackgroundCheckpointsRunDoesNotDeadlock()
    {
        var settings = Small with { CheckpointAfterBufferedBytes = 1 };
        for (int round = 0; round < 5; round++)
        {
            var dir = TestData.TempDir();
            var db = Open(dir, settings);
            var c = db.CreateCollection("c", Opts(RawVectorResidency.Disk));
            Load(c, Vectors(400, Dim, 20 + round), 0, 20); // every batch starts a checkpoint if none is running
            var close = Task.Run(db.Dispose);
            Assert.Same(close, await Task.WhenAny(close, Task.Delay(TimeSpan.FromSeconds(60))));
            await close;
            using var again = Open(dir, settings);
            AssertHas(again.GetCollection("c"), Vectors(400, Dim, 20 + round), 0, 400);
        }
    }
}
