using VectorStore.Collections;
using VectorStore.Drift;
using VectorStore.Storage;
using VectorStore.Tests.Drift;
using Xunit;
using static VectorStore.Tests.Storage.StorageTestKit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// The drift reservoir file (data-format.md §4.14): checkpoints append the rows sampled since the previous one
/// instead of writing the whole reservoir, the file's earlier bytes never change, a new file replaces it once it would
/// pass twice the reservoir, and reopens read the same readings; a tail no snapshot names is cut, damage is refused
/// naming the file.
/// </summary>
public sealed class DriftReservoirFileTests
{
    private const int Dim = 16;
    private const int RowBytes = Dim * sizeof(float);

    private static string CollectionDir(string dir) => Path.Combine(dir, "collections", "c");

    private static string[] ReservoirFiles(string dir) =>
        Directory.GetFiles(CollectionDir(dir), "reservoir-*.vsr").Select(Path.GetFileName).Order().ToArray()!;

    private static long Rows(string dir, string name) => (new FileInfo(Path.Combine(CollectionDir(dir), name)).Length - DriftReservoirFile.HeaderSize) / RowBytes;

    /// <summary>Loads <paramref name="count"/> vectors from <paramref name="first"/> and checkpoints once the background drift tests are done.</summary>
    private static void LoadAndSnapshot(VectorDatabase db, Collection c, VectorMatrix data, int first, int count)
    {
        Load(c, data.Slice(first, count), (ulong)first, 1000);
        if (c.LiveDriftMonitor is { } monitor) DriftMonitorTests.Settle(monitor);
        db.Snapshot();
    }

    /// <summary>The live monitor's running state as it would be written inline: window, the reservoir's rows in order, tests.</summary>
    private static byte[] Running(Collection c)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms)) c.LiveDriftMonitor!.WriteRunning(w);
        return ms.ToArray();
    }

    /// <summary>Every drift reading, exactly.</summary>
    private static string Reading(Collection c)
    {
        var r = c.Drift();
        return $"{r.Observed}: " + string.Join(", ", r.Signals.Select(s => $"{s.Name}={s.Value:R}"));
    }

    [Fact]
    public void CheckpointsAppendTheNewRowsAndANewFileReplacesALongOne()
    {
        var dir = TestData.TempDir();
        var data = Vectors(15_000, Dim, 71);
        string reading, last;
        byte[] running;
        int next;
        using (var db = Open(dir))
        {
            var c = db.CreateCollection("c", Options(Dim, Collection.MinDriftSample));
            // A reservoir of 400 rows: 100 are sampled per 400 vectors (the default rate, 1 in 4), so the file passes
            // twice the reservoir after a few checkpoints, well before the collection doubles and retrains.
            c.DriftSettings = new DriftSettings { ReservoirSize = 400 };
            LoadAndSnapshot(db, c, data, 0, Collection.MinDriftSample + 1000);
            string first = ReservoirFiles(dir).Single();
            long rows = Rows(dir, first);
            Assert.InRange(rows, 1, 400);
            var before = File.ReadAllBytes(Path.Combine(CollectionDir(dir), first));
            LoadAndSnapshot(db, c, data, Collection.MinDriftSample + 1000, 400);
            Assert.Equal([first], ReservoirFiles(dir));
            Assert.Equal(rows + 100, Rows(dir, first));
            var after = File.ReadAllBytes(Path.Combine(CollectionDir(dir), first));
            Assert.Equal(before, after[..before.Length]);
            // Appends go on until the file would pass twice the reservoir: then a new file with the reservoir alone.
            next = Collection.MinDriftSample + 1400;
            long longest = rows + 100;
            while (ReservoirFiles(dir).Single() == first)
            {
                Assert.True(longest <= 800, $"the file holds {longest} rows, past twice the reservoir");
                longest = Rows(dir, first);
                LoadAndSnapshot(db, c, data, next, 400);
                next += 400;
            }
            Assert.True(longest + 100 > 800, $"a new file after {longest} rows, before the file would pass twice the reservoir");
            last = ReservoirFiles(dir).Single();
            Assert.Equal(400, Rows(dir, last));
            reading = Reading(c);
            running = Running(c);
        }
        using (var db = Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(reading, Reading(c));
            Assert.Equal(running, Running(c)); // the same rows in the same order
            // The reopened monitor appends to the same file.
            LoadAndSnapshot(db, c, data, next, 400);
            next += 400;
            Assert.Equal([last], ReservoirFiles(dir));
            Assert.Equal(500, Rows(dir, last));
            running = Running(c);
        }
        using (var db = Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(running, Running(c));
            // Reopened with the default settings, the reservoir holds up to 1,000 rows (an eighth of the 8,000-vector training sample): 600 more are appended.
            LoadAndSnapshot(db, c, data, next, 2400);
            Assert.Equal([last], ReservoirFiles(dir));
            Assert.Equal(1100, Rows(dir, last));
            running = Running(c);
        }
        using (var db = Open(dir)) Assert.Equal(running, Running(db.GetCollection("c")));
    }

    [Fact]
    public async Task AReopenedSmallCollectionKeepsItsReservoirCapWhateverItsSizeNow()
    {
        var dir = TestData.TempDir();
        var data = Vectors(Collection.MinDriftSample + 4000, Dim, 73);
        int defaultSize = new DriftSettings().ReservoirSize;
        // Trained on the first 8,000 vectors: an eighth of that sample, whatever the collection grows or shrinks to.
        const int cap = Collection.MinDriftSample / 8;
        using (var db = Open(dir))
        {
            var c = db.CreateCollection("c", Options(Dim, Collection.MinDriftSample));
            LoadAndSnapshot(db, c, data, 0, Collection.MinDriftSample + 2000);
            Assert.Equal(cap, c.LiveDriftMonitor!.ReservoirCapacity);
        }
        using (var db = Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(cap, c.LiveDriftMonitor!.ReservoirCapacity); // not the 2,000 rows of the default settings
            Assert.True(cap < defaultSize);
            // Grown (the last 2,000 only in the log, replayed on open) and shrunk: still the same cap.
            Load(c, data.Slice(Collection.MinDriftSample + 2000, 2000), Collection.MinDriftSample + 2000, 1000);
        }
        using (var db = Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(cap, c.LiveDriftMonitor!.ReservoirCapacity);
            await c.DeleteBatchAsync(Enumerable.Range(0, 6000).Select(i => (ulong)i).ToArray());
            db.Snapshot();
        }
        using (var db = Open(dir)) Assert.Equal(cap, db.GetCollection("c").LiveDriftMonitor!.ReservoirCapacity);
    }

    [Fact]
    public void RowsNoSnapshotNamesAreIgnoredAndCut()
    {
        var dir = TestData.TempDir();
        var data = Vectors(Collection.MinDriftSample + 3000, Dim, 72);
        string reading, name;
        byte[] running;
        using (var db = Open(dir))
        {
            var c = db.CreateCollection("c", Options(Dim, Collection.MinDriftSample));
            LoadAndSnapshot(db, c, data, 0, Collection.MinDriftSample + 1000);
            reading = Reading(c);
            running = Running(c);
            name = ReservoirFiles(dir).Single();
            Crash(db);
        }
        string path = Path.Combine(CollectionDir(dir), name);
        long rows = Rows(dir, name);
        // What a process killed while appending leaves: rows (and half a row) past what the snapshot names.
        using (var f = new FileStream(path, FileMode.Append)) f.Write(new byte[3 * RowBytes + 7].Select((_, i) => (byte)(i * 37)).ToArray());
        using (var db = Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(reading, Reading(c));
            Assert.Equal(running, Running(c));
            LoadAndSnapshot(db, c, data, Collection.MinDriftSample + 1000, 1000);
            Assert.Equal(DriftReservoirFile.HeaderSize + (rows + 250) * RowBytes, new FileInfo(path).Length);
            running = Running(c);
        }
        using (var db = Open(dir))
        {
            Assert.Equal(Collection.MinDriftSample + 2000, db.GetCollection("c").Count);
            Assert.Equal(running, Running(db.GetCollection("c")));
        }
    }

    /// <summary>
    /// A batch whose drift observation lands after a checkpoint captured the monitor is in no log record after that
    /// checkpoint: the store still counts as changed, so the clean close writes the observation.
    /// </summary>
    [Fact]
    public void AnObservationAfterTheCheckpointIsWrittenByTheCleanClose()
    {
        var dir = TestData.TempDir();
        var data = Vectors(Collection.MinDriftSample + 1400, Dim, 74);
        byte[] running;
        using (var db = Open(dir))
        {
            var c = db.CreateCollection("c", Options(Dim, Collection.MinDriftSample));
            LoadAndSnapshot(db, c, data, 0, Collection.MinDriftSample + 1000);
            Assert.False(db.StoreOf("c")!.Dirty);
            c.LiveDriftMonitor!.Observe(data.Slice(Collection.MinDriftSample + 1000, 400)); // what a late observation does
            DriftMonitorTests.Settle(c.LiveDriftMonitor!);
            Assert.True(db.StoreOf("c")!.Dirty);
            running = Running(c);
        }
        using (var db = Open(dir))
        {
            Assert.Equal(running, Running(db.GetCollection("c")));
            Assert.False(db.StoreOf("c")!.Dirty);
        }
    }

    [Theory]
    [InlineData("delete")]
    [InlineData("flip-middle")]
    [InlineData("truncate")]
    public void ADamagedOrMissingReservoirFileIsRefusedNamingIt(string damage)
    {
        var dir = TestData.TempDir();
        var data = Vectors(Collection.MinDriftSample + 1000, Dim, 73);
        using (var db = Open(dir))
        {
            var c = db.CreateCollection("c", Options(Dim, Collection.MinDriftSample));
            LoadAndSnapshot(db, c, data, 0, Collection.MinDriftSample + 1000);
            Crash(db);
        }
        string path = Path.Combine(CollectionDir(dir), ReservoirFiles(dir).Single());
        var bytes = File.ReadAllBytes(path);
        switch (damage)
        {
            case "delete": File.Delete(path); break;
            case "flip-middle": bytes[bytes.Length / 2] ^= 0x08; File.WriteAllBytes(path, bytes); break;
            case "truncate": File.WriteAllBytes(path, bytes[..^RowBytes]); break;
        }
        var e = Assert.Throws<StoreCorruptedException>(() => Open(dir).Dispose());
        Assert.Contains(Path.GetFileName(path), e.Message);
    }
}
