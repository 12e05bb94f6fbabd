using Xunit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// Writers that outrun the background checkpoint wait for it once the buffer of unsealed vectors reaches twice its
/// trigger (<c>StorageSettings.StallFactor</c>). Without the stall an operator's sustained load held 130 MB against a
/// 64 MiB trigger, and a disk slower than the writers let the buffer grow without a bound.
/// </summary>
public sealed class WriteStallTests
{
    private const int Dim = 16;
    private const long Limit = 64 << 10;
    private const int Batch = 100;

    // 100 rows of 64 bytes and a short payload each, with room for the arena's bookkeeping.
    private const long BatchBytes = Batch * (Dim * sizeof(float) + 32);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AWriterWaitsForAHeldCheckpointAtTwiceTheBoundAndEveryRowSurvives(bool async)
    {
        string dir = TestData.TempDir();
        using var release = new ManualResetEventSlim();
        int checkpoints = 0;
        var settings = StorageTestKit.Small with
        {
            CheckpointAfterBufferedBytes = Limit,
            // The first background checkpoint is held until the test lets it go (a disk far slower than the writer).
            BeforeBackgroundCheckpoint = () =>
            {
                if (Interlocked.Increment(ref checkpoints) == 1) release.Wait(TimeSpan.FromSeconds(60));
            },
        };
        var data = StorageTestKit.Vectors(6_000, Dim, 21); // about six times the bound
        var db = StorageTestKit.Open(dir, settings);
        try
        {
            var c = db.CreateCollection("a", StorageTestKit.Options(Dim, threshold: 100_000, compression: "none"));
            var store = db.StoreOf("a")!;
            long peak = 0;
            var writer = Task.Run(async () =>
            {
                for (int start = 0; start < data.Count; start += Batch)
                {
                    var ids = Enumerable.Range(start, Batch).Select(i => (ulong)i).ToArray();
                    var payloads = ids.Select(StorageTestKit.Payload).ToArray();
                    if (async) await c.UpsertBatchAsync(ids, data.Slice(start, Batch), payloads);
                    else c.UpsertBatch(ids, data.Slice(start, Batch), payloads);
                    InterlockedMax(ref peak, store.BufferedBytes);
                }
            });

            // Six times the bound takes milliseconds to write: a writer still running after two seconds is held.
            Assert.False(await Task.WhenAny(writer, Task.Delay(TimeSpan.FromSeconds(2))) == writer, $"the writer finished with {store.BufferedBytes} bytes buffered against a bound of {Limit}: nothing held it");
            long held = store.BufferedBytes;
            Assert.InRange(held, 2 * Limit, 2 * Limit + BatchBytes);
            Assert.True(store.WriteStalls > 0);

            release.Set();
            await writer.WaitAsync(TimeSpan.FromSeconds(60));
            store.WaitForBackgroundCheckpoint();
            Assert.InRange(Interlocked.Read(ref peak), 0, 2 * Limit + BatchBytes);
            Assert.True(checkpoints >= 2, $"{checkpoints} checkpoints");
            StorageTestKit.AssertHas(c, data, 0, data.Count);
        }
        finally
        {
            release.Set();
            db.Dispose();
        }
        using var reopened = StorageTestKit.Open(dir, StorageTestKit.Small);
        StorageTestKit.AssertHas(reopened.GetCollection("a"), data, 0, data.Count);
    }

    /// <summary>
    /// A write is held for at most <c>MaxWriteStall</c>: a checkpoint may wait behind a backup's copy for minutes, and
    /// a writer held that long (a replica's apply, a client's timeout) would fail for a reason not its own.
    /// </summary>
    [Fact]
    public async Task AWriterIsHeldNoLongerThanTheLimit()
    {
        string dir = TestData.TempDir();
        using var release = new ManualResetEventSlim();
        int checkpoints = 0;
        var settings = StorageTestKit.Small with
        {
            CheckpointAfterBufferedBytes = Limit,
            MaxWriteStall = TimeSpan.FromMilliseconds(200),
            BeforeBackgroundCheckpoint = () =>
            {
                if (Interlocked.Increment(ref checkpoints) == 1) release.Wait(TimeSpan.FromSeconds(60));
            },
        };
        var data = StorageTestKit.Vectors(6_000, Dim, 23);
        var db = StorageTestKit.Open(dir, settings);
        try
        {
            var c = db.CreateCollection("a", StorageTestKit.Options(Dim, threshold: 100_000, compression: "none"));
            var store = db.StoreOf("a")!;
            var writer = Task.Run(() => StorageTestKit.Load(c, data, 0, Batch));
            // Each write past the bound waits 200 ms and goes on: 40-odd such writes, far less than the held checkpoint.
            Assert.True(await Task.WhenAny(writer, Task.Delay(TimeSpan.FromSeconds(50))) == writer, "the writer stayed held behind the checkpoint");
            await writer;
            Assert.True(store.WriteStalls > 0);
            Assert.True(store.BufferedBytes > 2 * Limit, "nothing was held: the checkpoint sealed the buffer");
            release.Set();
            store.WaitForBackgroundCheckpoint();
            StorageTestKit.AssertHas(c, data, 0, data.Count);
        }
        finally
        {
            release.Set();
            db.Dispose();
        }
    }

    /// <summary>A checkpoint that fails ends the stall: a failing disk must not hold every writer (the log keeps their rows).</summary>
    [Fact]
    public async Task AFailingCheckpointDoesNotHoldTheWriters()
    {
        string dir = TestData.TempDir();
        var settings = StorageTestKit.Small with
        {
            CheckpointAfterBufferedBytes = Limit,
            BeforeBackgroundCheckpoint = () => throw new IOException("injected: the checkpoint's disk failed"),
        };
        var data = StorageTestKit.Vectors(6_000, Dim, 22);
        var db = StorageTestKit.Open(dir, settings);
        {
            var c = db.CreateCollection("a", StorageTestKit.Options(Dim, threshold: 100_000, compression: "none"));
            var writer = Task.Run(() => StorageTestKit.Load(c, data, 0, Batch));
            Assert.True(await Task.WhenAny(writer, Task.Delay(TimeSpan.FromSeconds(60))) == writer, "writers stayed held behind checkpoints that fail");
            await writer;
            var store = db.StoreOf("a")!;
            Assert.IsType<IOException>(store.LastCheckpointError);
            Assert.True(store.BufferedBytes > 2 * Limit, "the buffer was sealed although every checkpoint failed");
            StorageTestKit.AssertHas(c, data, 0, data.Count);
            StorageTestKit.Crash(db);
        }
        using var reopened = StorageTestKit.Open(dir, StorageTestKit.Small);
        StorageTestKit.AssertHas(reopened.GetCollection("a"), data, 0, data.Count);
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long seen;
        while ((seen = Interlocked.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }
}
