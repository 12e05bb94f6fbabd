using VectorStore.Collections;
using VectorStore.Storage;
using Xunit;
using static VectorStore.Tests.Storage.StorageTestKit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// <see cref="DatabaseOptions.CheckpointWhenIdle"/>: once writes pause, what the last checkpoint does not cover is
/// checkpointed in the background, so buffered full-precision vectors leave memory without waiting for a size threshold.
/// </summary>
public sealed class IdleCheckpointTests
{
    private const int Dim = 32;

    private static CollectionOptions DiskOpts() => Options(Dim, threshold: 300) with { RawVectors = RawVectorResidency.Disk, Index = "flat" };

    private static VectorDatabase OpenWith(string dir, TimeSpan idle) =>
        VectorDatabase.Open(dir, new DatabaseOptions { CheckpointWhenIdle = idle, MinFreeDiskBytes = 0 }, Small);

    private static long Buffered(Collection c) => ((IJournaledState)c).BufferedBytes;

    /// <summary>Polls until <paramref name="done"/> or a generous deadline (a loaded CI machine delays timers, never by this much).</summary>
    private static bool Eventually(Func<bool> done)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (done()) return true;
            Thread.Sleep(20);
        }
        return done();
    }

    /// <summary>Every row of <paramref name="data"/> (ids 0..) is in <paramref name="c"/>, and again after a crash and a reopen.</summary>
    private static void AssertHasAfterCrash(VectorDatabase db, string dir, Collection c, VectorMatrix data)
    {
        AssertHas(c, data, 0, data.Count);
        Crash(db);
        using var again = OpenWith(dir, TimeSpan.Zero);
        AssertHas(again.GetCollection(c.Name), data, 0, data.Count);
    }

    [Fact]
    public void BufferedVectorsMoveToASegmentOnceWritesPause()
    {
        var dir = TestData.TempDir();
        var data = Vectors(1200, Dim, 11);
        var db = OpenWith(dir, TimeSpan.FromSeconds(3));
        var c = db.CreateCollection("c", DiskOpts());
        Load(c, data, 0, 100);
        var store = db.StoreOf("c")!;
        long sequence = store.Entry.SnapshotSequence;
        Assert.True(Buffered(c) >= 1200L * Dim * sizeof(float), $"expected the rows buffered before the quiet period, {Buffered(c)} bytes");

        Assert.True(Eventually(() => Buffered(c) == 0 && store.Entry.SnapshotSequence > sequence),
            $"no idle checkpoint within 30 s: {Buffered(c)} bytes still buffered, snapshot {store.Entry.SnapshotSequence}");
        store.WaitForBackgroundCheckpoint();
        Assert.Null(store.LastCheckpointError);
        Assert.NotEmpty(Directory.GetFiles(store.Directory, "seg-*.vsg"));
        if (OperatingSystem.IsLinux())
        {
            // Of the log's page buffer (four pages, each written or cleared by now) nothing stays but the system page
            // the next flush continues from and the partial system pages at each array's ends: the checkpoint covered
            // every entry, so the tail page's entries are read from the segment file from now on.
            long system = Environment.SystemPageSize;
            long bound = system + store.Wal.BufferPages().Length * 2 * system;
            Assert.True(Eventually(() => LogBufferMemoryTests.ResidentBytes(store.Wal) <= bound),
                $"{LogBufferMemoryTests.ResidentBytes(store.Wal)} bytes of the log's buffer are resident after the idle checkpoint, over {bound}");
        }
        // The rows are read back from the segment, and survive a crash without any log to replay.
        AssertHasAfterCrash(db, dir, c, data);
    }

    /// <summary>
    /// An idle checkpoint that fails after its unlocked half is retried (later each time) until one succeeds, and each
    /// failed attempt's pre-sealed segment is deleted at once rather than piling up until a success.
    /// </summary>
    [Fact]
    public void AFailedIdleCheckpointIsRetriedAndLeavesNoSegmentBehind()
    {
        var dir = TestData.TempDir();
        var data = Vectors(600, Dim, 15);
        var db = OpenWith(dir, TimeSpan.FromMilliseconds(100));
        var c = db.CreateCollection("c", DiskOpts());
        var store = db.StoreOf("c")!;
        int calls = 0;
        var segmentsSeen = new List<int>();
        store.Wal.BoundaryFault = () =>
        {
            segmentsSeen.Add(Directory.GetFiles(store.Directory, "seg-*.vsg").Length);
            return ++calls <= 3 ? new IOException("injected checkpoint failure") : null;
        };
        Load(c, data, 0, 100);
        Assert.True(Eventually(() => Buffered(c) == 0), $"still buffered after 30 s and {calls} checkpoint attempts");
        store.WaitForBackgroundCheckpoint();
        Assert.True(calls >= 4, $"{calls} attempts");
        Assert.IsType<IOException>(store.LastCheckpointError);
        // Each attempt finds only its own pre-sealed segment: the failed ones' were deleted.
        Assert.All(segmentsSeen.Take(4), n => Assert.Equal(1, n));
        store.Wal.BoundaryFault = null;
        AssertHasAfterCrash(db, dir, c, data);
    }

    [Fact]
    public void ZeroInfiniteAndOverLongPeriodsTurnItOff()
    {
        foreach (var off in new[] { TimeSpan.Zero, Timeout.InfiniteTimeSpan, TimeSpan.MaxValue, TimeSpan.FromDays(60) })
        {
            var dir = TestData.TempDir();
            using var db = OpenWith(dir, off);
            var c = db.CreateCollection("c", DiskOpts());
            Load(c, Vectors(300, Dim, 12), 0, 100); // a period past the timer's range must not fail the write
            var store = db.StoreOf("c")!;
            Assert.Null(store.IdleCheckpointPeriod);
            long sequence = store.Entry.SnapshotSequence, buffered = Buffered(c);
            Thread.Sleep(300);
            Assert.Equal(sequence, store.Entry.SnapshotSequence);
            Assert.Equal(buffered, Buffered(c));
        }
        using var on = OpenWith(TestData.TempDir(), TimeSpan.FromSeconds(3));
        on.CreateCollection("c", DiskOpts());
        Assert.Equal(TimeSpan.FromSeconds(3), on.StoreOf("c")!.IdleCheckpointPeriod);
        using var byDefault = VectorDatabase.Open(TestData.TempDir());
        byDefault.CreateCollection("c", DiskOpts());
        Assert.Equal(DatabaseOptions.DefaultCheckpointWhenIdle, byDefault.StoreOf("c")!.IdleCheckpointPeriod);
    }

    [Fact]
    public void RowsReplayedAtOpenLeaveMemoryAfterTheSameQuietPeriod()
    {
        var dir = TestData.TempDir();
        var data = Vectors(800, Dim, 13);
        var db = OpenWith(dir, TimeSpan.Zero);
        Load(db.CreateCollection("c", DiskOpts()), data, 0, 100);
        Crash(db);

        using var again = OpenWith(dir, TimeSpan.FromSeconds(3));
        var c = again.GetCollection("c");
        var store = again.StoreOf("c")!;
        Assert.True(Buffered(c) > 0, "the replayed rows start out buffered");
        Assert.True(Eventually(() => Buffered(c) == 0), $"replayed rows still buffered after 30 s: {Buffered(c)} bytes");
        store.WaitForBackgroundCheckpoint();
        AssertHas(c, data, 0, 800);
    }

    /// <summary>
    /// Closing with the timer armed, as it fires, and while the checkpoint it started runs (the delays cover the three):
    /// nothing acknowledged is lost, and no callback throws (on a timer thread that would end the process).
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(45)]
    [InlineData(60)]
    [InlineData(120)]
    public void ClosingAroundTheIdleCheckpointLosesNothing(int closeAfterMs)
    {
        var dir = TestData.TempDir();
        var data = Vectors(400, Dim, 14);
        var db = OpenWith(dir, TimeSpan.FromMilliseconds(50));
        Load(db.CreateCollection("c", DiskOpts()), data, 0, 100);
        Thread.Sleep(closeAfterMs);
        db.Dispose();
        Thread.Sleep(150);
        using var again = OpenWith(dir, TimeSpan.Zero);
        AssertHas(again.GetCollection("c"), data, 0, 400);
    }

    [Fact]
    public void DroppingAroundTheIdleCheckpointLeavesNothingBehind()
    {
        var dir = TestData.TempDir();
        using var db = OpenWith(dir, TimeSpan.FromMilliseconds(30));
        for (int round = 0; round < 6; round++)
        {
            var c = db.CreateCollection("c", DiskOpts());
            Load(c, Vectors(400, Dim, 20 + round), 0, 100);
            string cdir = db.StoreOf("c")!.Directory;
            Thread.Sleep(10 * round);
            Assert.True(db.DropCollection("c"));
            Assert.False(Directory.Exists(cdir), $"round {round}: {cdir} left behind");
        }
        Assert.Empty(db.CollectionNames);
    }

    [Fact]
    public void ANegativeQuietPeriodIsRefusedBeforeAnythingIsCreated()
    {
        var dir = Path.Combine(TestData.TempDir(), "db");
        var e = Assert.Throws<InvalidArgumentException>(() => OpenWith(dir, TimeSpan.FromSeconds(-2)));
        Assert.Contains("CheckpointWhenIdle", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir));
        using var off = OpenWith(dir, Timeout.InfiniteTimeSpan);
        Assert.Empty(off.CollectionNames);
    }
}
