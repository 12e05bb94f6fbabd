using VectorStore.Collections;
using VectorStore.Lifecycle;
using VectorStore.Storage;
using VectorStore.Tests.Drift;
using Xunit;
using static VectorStore.Tests.Storage.StorageTestKit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// Incremental per-slot state (data-format.md §4.11): the slot file is named by later checkpoints with the entries of
/// the slots changed since (including rows a merge moved) until enough changed; reopens read it back exactly. A
/// damaged or missing slot file is refused naming it (<see cref="IndexFileTests"/>, which damages both kinds).
/// </summary>
public sealed class SlotFileTests
{
    private const int Dim = 16;

    private static string CollectionDir(string dir) => Path.Combine(dir, "collections", "c");

    private static string[] SlotFiles(string dir) =>
        Directory.GetFiles(CollectionDir(dir), "slots-*.vsl").Select(Path.GetFileName).Order().ToArray()!;

    [Theory]
    [InlineData(RawVectorResidency.Disk)]
    [InlineData(RawVectorResidency.Ram)]
    public void CheckpointsNameTheSlotFileWithTheChangedSlotsAndReopenReadsTheSame(RawVectorResidency residency)
    {
        var dir = TestData.TempDir();
        var data = Vectors(2000, Dim, 51);
        string first;
        byte[] firstBytes;
        using (var db = Open(dir))
        {
            var c = db.CreateCollection("c", Options(Dim, 300) with { RawVectors = residency });
            Load(c, data.Slice(0, 1000), 0, 250);
            db.Snapshot();
            first = SlotFiles(dir).Single();
            firstBytes = File.ReadAllBytes(Path.Combine(CollectionDir(dir), first));
            string firstSegment = Directory.GetFiles(CollectionDir(dir), "seg-*.vsg").Single();
            // Overwriting 600 of the first segment's 1,000 rows leaves it under half live: this checkpoint also merges
            // it, moving the other 400 rows, whose new locations must reach the snapshot as changes too.
            Load(c, data.Slice(1000, 600), 0, 200);
            Load(c, data.Slice(1600, 300), 1000, 100);
            for (ulong id = 900; id < 950; id++) Assert.True(c.Delete(id));
            db.Snapshot();
            Assert.Equal([first], SlotFiles(dir));
            Assert.Equal(firstBytes, File.ReadAllBytes(Path.Combine(CollectionDir(dir), first)));
            Assert.False(File.Exists(firstSegment), "the first segment was not merged away");
        }
        using (var db = Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(1250, c.Count);
            AssertVectors(c, data.Slice(1000, 600), 0, 600);
            AssertVectors(c, data.Slice(600, 300), 600, 300);
            AssertVectors(c, data.Slice(950, 50), 950, 50);
            AssertVectors(c, data.Slice(1600, 300), 1000, 300);
            Assert.Null(c.Get(900));
            // Changes after a reopen add to the same file.
            Load(c, data.Slice(1900, 100), 2000, 100);
            Assert.True(c.Delete(5));
            db.Snapshot();
            Assert.Equal([first], SlotFiles(dir));
        }
        using (var db = Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(1349, c.Count);
            Assert.Null(c.Get(5));
            AssertVectors(c, data.Slice(1900, 100), 2000, 100);
            AssertVectors(c, data.Slice(1006, 594), 6, 594);
        }
    }

    [Fact]
    public void WritesReplayedAfterACrashAreTrackedAgainstTheSameFile()
    {
        var dir = TestData.TempDir();
        var data = Vectors(1600, Dim, 55);
        string first;
        using (var db = Open(dir))
        {
            var c = db.CreateCollection("c", Options(Dim, 300));
            Load(c, data.Slice(0, 1000), 0, 250);
            db.Snapshot();
            first = SlotFiles(dir).Single();
            Load(c, data.Slice(1000, 300), 200, 100);
            Assert.True(c.Delete(10));
            Crash(db); // no checkpoint: the reopen replays these from the log
        }
        using (var db = Open(dir))
        {
            var c = db.GetCollection("c");
            AssertVectors(c, data.Slice(1000, 300), 200, 300);
            Load(c, data.Slice(1300, 300), 1000, 100);
            db.Snapshot();
            Assert.Equal([first], SlotFiles(dir));
        }
        using (var db = Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(1299, c.Count);
            Assert.Null(c.Get(10));
            AssertVectors(c, data.Slice(1000, 300), 200, 300);
            AssertVectors(c, data.Slice(1300, 300), 1000, 300);
            AssertVectors(c, data.Slice(500, 500), 500, 500);
        }
    }

    [Fact]
    public void TheDriftBaselineIsWrittenOnceAndReadBackWithTheRunningState()
    {
        var dir = TestData.TempDir();
        var data = Vectors(Collection.MinDriftSample + 3000, Dim, 56);
        string file;
        DriftReport before;
        using (var db = Open(dir))
        {
            var c = db.CreateCollection("c", Options(Dim, Collection.MinDriftSample));
            Load(c, data.Slice(0, Collection.MinDriftSample + 1000), 0, 1000);
            db.Snapshot();
            file = Directory.GetFiles(CollectionDir(dir), "drift-*.vsd").Single();
            var bytes = File.ReadAllBytes(file);
            Load(c, data.Slice(Collection.MinDriftSample + 1000, 2000), 0, 500);
            // The periodic tests run in the background: one finishing after the snapshot would change the reading
            // this process reports but not the one the snapshot holds.
            DriftMonitorTests.Settle(c.LiveDriftMonitor!);
            db.Snapshot();
            Assert.Equal(file, Directory.GetFiles(CollectionDir(dir), "drift-*.vsd").Single());
            Assert.Equal(bytes, File.ReadAllBytes(file));
            before = c.Drift();
        }
        using (var db = Open(dir))
        {
            var c = db.GetCollection("c");
            var after = c.Drift();
            Assert.Equal(before.Observed, after.Observed);
            Assert.Equal(before.Signals.Select(s => (s.Name, s.Value)), after.Signals.Select(s => (s.Name, s.Value)));
            db.Snapshot();
            Assert.Equal(file, Directory.GetFiles(CollectionDir(dir), "drift-*.vsd").Single());
        }
    }

    private static string[] DriftFiles(string dir) =>
        Directory.GetFiles(CollectionDir(dir), "drift-*.vsd").Select(Path.GetFileName).Order().ToArray()!;

    [Fact]
    public async Task PromotionAndRollbackNameTheNewLiveMonitorsBaselineAndDropTheOld()
    {
        var dir = TestData.TempDir();
        var data = Vectors(Collection.MinDriftSample + 1000, Dim, 57);
        string first;
        using (var db = Open(dir))
        {
            var c = db.CreateCollection("c", Options(Dim, Collection.MinDriftSample));
            Load(c, data, 0, 1000);
            db.Snapshot();
            first = DriftFiles(dir).Single();
            int g = c.BuildGeneration("sq8", "ivf:16");
            await c.WaitForGeneration(g);
            c.Promote(g);
            db.Snapshot();
            // The promoted generation's monitor is another object: its baseline is written anew (or none, without sensors).
            Assert.DoesNotContain(first, DriftFiles(dir));
            Assert.True(DriftFiles(dir).Length <= 1);
            var promoted = DriftFiles(dir);
            Assert.Equal(1, c.Rollback());
            db.Snapshot();
            Assert.True(DriftFiles(dir).Length <= 1);
            Assert.DoesNotContain(first, DriftFiles(dir));
            if (promoted.Length == 1 && DriftFiles(dir).Length == 1) Assert.NotEqual(promoted, DriftFiles(dir));
        }
        // The snapshot's running state and the file it names read back as one state.
        using (var db = Open(dir))
            Assert.Equal(1, db.GetCollection("c").Drift().Generation);
    }

    [Fact]
    public void ManyChangesOrCompactionWriteANewSlotFileAndDeleteTheOld()
    {
        var dir = TestData.TempDir();
        var data = Vectors(12000, Dim, 52);
        using var db = Open(dir);
        var c = db.CreateCollection("c", Options(Dim, 300));
        Load(c, data.Slice(0, 6000), 0, 1000);
        IndexFileTests.AssertKeptThenRewritten(db, dir,
            small: () => Load(c, data.Slice(6000, 1000), 0, 500),
            // 5,000 more changed slots pass the 4,096-entry floor.
            large: () => Load(c, data.Slice(7000, 5000), 6000, 1000),
            files: SlotFiles);
    }
}
