using Xunit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// The bound on buffered vectors (<c>StorageSettings.CheckpointAfterBufferedBytes</c>) holds for a database's
/// collections together: four collections each below the bound but together far above it seal their buffers, as a
/// silo's shard copies must (measured: four copies of 25 MiB kept everything buffered and ran a 400 MiB cap out of memory).
/// </summary>
public sealed class BufferLedgerTests
{
    private const int Dim = 16;
    private const long Limit = 64 << 10;

    [Fact]
    public void CollectionsBelowTheBoundEachButAboveItTogetherSealTheirBuffers()
    {
        string dir = TestData.TempDir();
        var settings = StorageTestKit.Small with { CheckpointAfterBufferedBytes = Limit };
        var data = StorageTestKit.Vectors(600, Dim, 9);
        using var db = StorageTestKit.Open(dir, settings);
        var names = new[] { "a", "b", "c", "d" };
        foreach (var name in names)
        {
            // 600 rows of 64 bytes: 38 KiB, below the 64 KiB bound on its own.
            var c = db.CreateCollection(name, StorageTestKit.Options(Dim, threshold: 100_000, compression: "none"));
            StorageTestKit.Load(c, data, 0, 100);
        }
        foreach (var name in names) db.StoreOf(name)!.WaitForBackgroundCheckpoint();
        long written = names.Length * 600L * Dim * sizeof(float);
        long buffered = names.Sum(n => db.StoreOf(n)!.BufferedBytes);
        // Without the shared bound nothing is sealed (every store stays below it): all 150 KiB stay buffered. With it, at
        // most the bound stays, plus the batch each store wrote while its checkpoint ran.
        Assert.True(buffered <= Limit + names.Length * 100L * Dim * sizeof(float), $"{buffered} bytes still buffered of {written} written (bound {Limit})");
        foreach (var name in names) StorageTestKit.AssertHas(db.GetCollection(name), data, 0, 600);
    }

    /// <summary>
    /// Under a memory limit the default bound shrinks with the heap .NET may use (75 % of a container's limit), so the
    /// buffer is never a large part of it: in a 420 MiB container a fixed 64 MiB was a fifth of the heap.
    /// </summary>
    [Theory]
    [InlineData(24L << 30, 64L << 20)]        // a machine's memory: the full 64 MiB
    [InlineData(315L << 20, 315L << 16)]      // 420 MiB container: a sixteenth of its 315 MiB heap
    [InlineData(480L << 20, 30L << 20)]       // 640 MiB container
    [InlineData(32L << 20, 4L << 20)]         // never below 4 MiB: checkpoints would seal a few rows each
    [InlineData(0L, 64L << 20)]               // not known: the full 64 MiB
    public void TheDefaultBoundFollowsTheHeapLimit(long available, long expected) =>
        Assert.Equal(expected, VectorStore.Storage.StorageSettings.DefaultBufferedBytes(available));
}
