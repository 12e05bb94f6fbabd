using VectorStore.Collections;
using Xunit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// A write that fails while it is applied in memory, after its log append (measured: an OutOfMemoryException from the
/// row buffer halfway through a batch, with the process under a memory limit). Memory then no longer matches the log,
/// so the collection must stop answering from it (a typed error on every call), never snapshot it, and come back
/// from its files with every acknowledged write when it is asked for again.
/// </summary>
public sealed class ApplyFailureTests
{
    private const int Dim = 16;

    private static Collection Faulted(VectorDatabase db, VectorMatrix data, out CollectionFaultedException error)
    {
        var c = db.CreateCollection("c", StorageTestKit.Options(Dim, threshold: 100));
        StorageTestKit.Load(c, data.Slice(0, 300), 0, 50);
        Assert.True(c.GetStats().Trained);
        // Halfway through the batch, as the measured failure: 25 rows placed, 25 not, the index given none of them.
        c.DuringApplyForTests = row => { if (row == 25) throw new OutOfMemoryException("injected"); };
        var ids = Enumerable.Range(300, 50).Select(i => (ulong)i).ToArray();
        error = Assert.Throws<CollectionFaultedException>(() => c.UpsertBatch(ids, data.Slice(300, 50), ids.Select(StorageTestKit.Payload).ToArray()));
        c.DuringApplyForTests = null;
        return c;
    }

    /// <summary>Every call on the stopped object throws the typed error, not a half-applied answer.</summary>
    private static void AssertStopped(Collection c, VectorMatrix data)
    {
        Assert.Throws<CollectionFaultedException>(() => c.Search(data.Row(0), new SearchOptions { K = 5 }));
        Assert.Throws<CollectionFaultedException>(() => c.Get(1));
        Assert.Throws<CollectionFaultedException>(() => c.Upsert(1, data.Row(1)));
        Assert.Throws<CollectionFaultedException>(() => c.Delete(2));
        Assert.Throws<CollectionFaultedException>(() => c.Ids());
        Assert.Throws<CollectionFaultedException>(() => c.SearchBatch(data.Slice(0, 4), new SearchOptions { K = 5 }));
    }

    /// <summary>The acknowledged 300 rows exactly; the failed batch (never acknowledged) either wholly replayed or absent.</summary>
    private static void AssertRecovered(Collection c, VectorMatrix data)
    {
        StorageTestKit.AssertHas(c, data, 0, 300);
        int replayed = Enumerable.Range(300, 50).Count(id => c.Contains((ulong)id));
        Assert.True(replayed is 0 or 50, $"{replayed} of the failed batch's 50 rows");
        if (replayed == 50) StorageTestKit.AssertHas(c, data.Slice(300, 50), 300, 50);
        // The index serves every row the collection holds: each row's own vector finds it first.
        for (int id = 0; id < 300 + replayed; id++)
            Assert.Equal((ulong)id, c.Search(data.Row(id), new SearchOptions { K = 3, Rerank = 20 })[0].Id);
    }

    [Fact]
    public void AWriteThatFailsWhileBeingAppliedStopsTheCollectionUntilItIsReopenedFromItsFiles()
    {
        string dir = TestData.TempDir();
        var data = StorageTestKit.Vectors(400, Dim, 3);
        using (var db = StorageTestKit.Open(dir))
        {
            var c = Faulted(db, data, out var error);
            Assert.Equal("c", error.Collection);
            Assert.IsType<OutOfMemoryException>(error.InnerException);
            Assert.Contains("intact", error.Message);
            Assert.IsAssignableFrom<UnavailableException>(error);
            AssertStopped(c, data);

            var reopened = db.GetCollection("c");
            Assert.NotSame(c, reopened);
            AssertRecovered(reopened, data);
            Assert.Same(reopened, db.GetCollection("c"));
            // It takes writes again, and the stopped object stays stopped.
            StorageTestKit.Load(reopened, data.Slice(350, 50), 350, 50);
            StorageTestKit.AssertHas(reopened, data.Slice(350, 50), 350, 50);
            AssertStopped(c, data);
        }
        using (var db = StorageTestKit.Open(dir))
        {
            var c = db.GetCollection("c");
            AssertRecovered(c, data);
            StorageTestKit.AssertHas(c, data.Slice(350, 50), 350, 50);
        }
    }

    [Fact]
    public void AReopenThatFailsIsRetriedOnlyAfterADelayAndThenSucceeds()
    {
        string dir = TestData.TempDir();
        var data = StorageTestKit.Vectors(400, Dim, 6);
        using var db = StorageTestKit.Open(dir);
        var c = Faulted(db, data, out _);
        // The log's durable-tail record out of the way: the reopen refuses, naming it.
        string tail = Directory.GetFiles(dir, "wal.tail", SearchOption.AllDirectories).Single();
        File.Move(tail, tail + ".away");
        var refused = Assert.Throws<StoreCorruptedException>(() => db.GetCollection("c"));
        Assert.Contains("durable-tail", refused.Message);
        // Within the delay the stopped collection is handed out as it is, and says why it does not answer.
        Assert.Same(c, db.GetCollection("c"));
        Assert.Throws<CollectionFaultedException>(() => c.Get(1));
        File.Move(tail + ".away", tail);
        Thread.Sleep(VectorDatabase.ReopenRetryDelay + TimeSpan.FromMilliseconds(200));
        var reopened = db.GetCollection("c");
        Assert.NotSame(c, reopened);
        AssertRecovered(reopened, data);
    }

    [Fact]
    public void AStoppedCollectionWhoseReopenFailedCanBeDroppedAndItsNameUsedAgain()
    {
        string dir = TestData.TempDir();
        var data = StorageTestKit.Vectors(400, Dim, 7);
        using (var db = StorageTestKit.Open(dir))
        {
            Faulted(db, data, out _);
            string tail = Directory.GetFiles(dir, "wal.tail", SearchOption.AllDirectories).Single();
            File.Delete(tail);
            Assert.Throws<StoreCorruptedException>(() => db.GetCollection("c"));
            Assert.True(db.DropCollection("c"));
            Assert.False(Directory.Exists(Path.GetDirectoryName(Path.GetDirectoryName(tail))));
            db.CreateCollection("c", StorageTestKit.Options(Dim)).Upsert(7, data.Row(7));
        }
        using (var db = StorageTestKit.Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(1, c.Count);
            Assert.True(c.Get(7)!.Vector.SequenceEqual(data.Row(7).ToArray()));
        }
    }

    [Fact]
    public void ADatabaseClosedWithAStoppedCollectionKeepsItsFilesAsTheyWere()
    {
        string dir = TestData.TempDir();
        var data = StorageTestKit.Vectors(400, Dim, 4);
        using (var db = StorageTestKit.Open(dir))
        {
            var other = db.CreateCollection("d", StorageTestKit.Options(Dim));
            StorageTestKit.Load(other, data.Slice(0, 20), 0, 20);
            var c = Faulted(db, data, out _);
            // The other collection's snapshot is written; the stopped one is left to its log.
            db.Snapshot();
            Assert.False(db.StoreOf("d")!.Dirty);
            Assert.True(db.StoreOf("c")!.Dirty);
            // Dispose closes the stopped collection without a snapshot of its memory, and without an error.
        }
        using (var db = StorageTestKit.Open(dir))
            AssertRecovered(db.GetCollection("c"), data);
    }

    [Fact]
    public void AnInMemoryCollectionThatFailsStaysStoppedAndSaysItCannotBeRecovered()
    {
        using var db = VectorDatabase.CreateInMemory();
        var data = StorageTestKit.Vectors(400, Dim, 5);
        var c = Faulted(db, data, out var error);
        Assert.Contains("in memory only", error.Message);
        Assert.Same(c, db.GetCollection("c"));
        AssertStopped(c, data);
        Assert.True(db.DropCollection("c"));
        db.CreateCollection("c", StorageTestKit.Options(Dim)).Upsert(1, data.Row(1));
    }

    /// <summary>
    /// A reopen replays the log, which can take seconds: it runs outside the database's lock, so other collections are
    /// served meanwhile and other callers get the stopped object (its typed error) instead of waiting.
    /// </summary>
    [Fact]
    public async Task AReopenHoldsUpNoOtherCollection()
    {
        string dir = TestData.TempDir();
        var data = StorageTestKit.Vectors(400, Dim, 8);
        using var db = StorageTestKit.Open(dir);
        var other = db.CreateCollection("d", StorageTestKit.Options(Dim));
        StorageTestKit.Load(other, data.Slice(0, 20), 0, 20);
        var c = Faulted(db, data, out _);
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        db.DuringReopenForTests = _ => { entered.Set(); release.Wait(TimeSpan.FromSeconds(30)); };
        var reopen = Task.Run(() => db.GetCollection("c"));
        try
        {
            Assert.True(entered.Wait(TimeSpan.FromSeconds(10)), "the reopen did not start");
            // Times out (TimeoutException) if the database waits for the reopen.
            var (d, stopped, _) = await Task.Run(() => (db.GetCollection("d"), db.GetCollection("c"), db.CollectionNames)).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Same(other, d);
            Assert.Same(c, stopped);
            Assert.Throws<CollectionFaultedException>(() => stopped.Get(1));
            StorageTestKit.AssertHas(other, data, 0, 20);
            Assert.True(db.DiskBytes("d") > 0);
        }
        catch
        {
            release.Set();
            throw;
        }
        // The reopening collection's size waits for its store (without one it read as 0 bytes).
        var size = Task.Run(() => db.DiskBytes("c"));
        Assert.NotSame(size, await Task.WhenAny(size, Task.Delay(300)));
        release.Set();
        Assert.True(await size.WaitAsync(TimeSpan.FromSeconds(30)) > 0);
        var reopened = await reopen;
        Assert.NotSame(c, reopened);
        AssertRecovered(reopened, data);
        Assert.Same(reopened, db.GetCollection("c"));
    }

    /// <summary>A drop or a close that comes during a reopen waits for it: the reopen has the collection's files open.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ADropOrCloseDuringAReopenWaitsForIt(bool drop)
    {
        string dir = TestData.TempDir();
        var data = StorageTestKit.Vectors(400, Dim, 9);
        var db = StorageTestKit.Open(dir);
        try
        {
            Faulted(db, data, out _);
            using var entered = new ManualResetEventSlim();
            using var release = new ManualResetEventSlim();
            db.DuringReopenForTests = _ => { entered.Set(); release.Wait(TimeSpan.FromSeconds(30)); };
            var reopen = Task.Run(() => db.GetCollection("c"));
            Assert.True(entered.Wait(TimeSpan.FromSeconds(10)), "the reopen did not start");
            var second = drop ? Task.Run(() => db.DropCollection("c")) : Task.Run(db.Dispose).ContinueWith(t => { t.GetAwaiter().GetResult(); return true; });
            Assert.NotSame(second, await Task.WhenAny(second, Task.Delay(300)));
            release.Set();
            Assert.True(await second.WaitAsync(TimeSpan.FromSeconds(30)));
            if (drop)
            {
                Assert.NotNull(await reopen); // the reopen completed, then the drop took it
                Assert.DoesNotContain("c", db.CollectionNames);
                Assert.Empty(Directory.GetFiles(dir, "wal.tail", SearchOption.AllDirectories));
                return;
            }
            // Closed meanwhile: the reopen gives nothing back, and the files are as the log left them.
            await Assert.ThrowsAsync<ObjectDisposedException>(() => reopen);
        }
        finally { db.Dispose(); }
        using var again = StorageTestKit.Open(dir);
        AssertRecovered(again.GetCollection("c"), data);
    }
}
