using VectorStore.Drift;
using VectorStore.Evaluation;
using VectorStore.Indexing;
using VectorStore.Lifecycle;
using Xunit;

namespace VectorStore.Tests.Drift;

/// <summary>The monitor's bytes: a restart keeps the training baseline and the running state; bad bytes are refused.</summary>
public sealed class DriftPersistenceTests
{
    private static readonly VectorMatrix s_data = SyntheticData.Clustered(6_000, 16, seed: 8, clusters: 12, rank: 6, noise: 0.2);
    private static readonly DriftSettings s_settings = DriftMonitorTests.Fast;

    private static (VectorIndex Index, DriftMonitor Monitor) Observed(string index = "ivf:16", string compression = "pq:4x4")
    {
        var training = s_data.Slice(0, 3_000);
        var built = DriftMonitorTests.Train(index, compression, training);
        var monitor = DriftMonitor.Create(built, training, DistanceKind.L2, s_settings, seed: 4);
        DriftMonitorTests.Stream(monitor, s_data.Slice(3_000, 1_500), index: built);
        DriftMonitorTests.Settle(monitor);
        monitor.RunPeriodicTests();
        return (built, monitor);
    }

    private static byte[] Bytes(DriftMonitor m)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) m.Write(w);
        return ms.ToArray();
    }

    private static DriftMonitor Load(byte[] bytes, VectorIndex index, DriftSettings? settings = null)
    {
        using var r = new BinaryReader(new MemoryStream(bytes));
        return DriftMonitor.Read(r, index, settings ?? s_settings, "/db/c/snap-7.vss");
    }

    private static void AssertSameReport(DriftReport a, DriftReport b)
    {
        Assert.Equal(a.Observed, b.Observed);
        Assert.Equal(a.Generation, b.Generation);
        Assert.Equal(a.Signals, b.Signals); // records: name, value, threshold and baseline all equal
    }

    [Theory]
    [InlineData("ivf:16", "pq:4x4")]
    [InlineData("flat", "sq8")]
    [InlineData("ivf:8,residual", "pq:8x4")]
    [InlineData("hnsw:8", "sq8:pv")]
    public void RoundTripReportsTheSameAndKeepsObservingAlike(string index, string compression)
    {
        var (built, monitor) = Observed(index, compression);
        var before = monitor.Report(3);
        Assert.Contains(before.Signals, s => s.Name == "mmd");
        var copy = Load(Bytes(monitor), built);
        AssertSameReport(before, copy.Report(3));
        Assert.Equal(Bytes(monitor), Bytes(copy));

        // The running state came along: the same further stream gives the same window and the same tests.
        var more = s_data.Slice(4_500, 700);
        monitor.Observe(more);
        copy.Observe(more);
        DriftMonitorTests.Settle(monitor);
        DriftMonitorTests.Settle(copy);
        monitor.RunPeriodicTests();
        copy.RunPeriodicTests();
        AssertSameReport(monitor.Report(4), copy.Report(4));
    }

    [Fact]
    public void ChangedWindowRestartsTheWindowAndKeepsBaselineAndNewestReservoirRows()
    {
        var (built, monitor) = Observed();
        var copy = Load(Bytes(monitor), built, s_settings with { WindowSize = 400, ReservoirSize = 300, MinWindowVectors = 50 });
        var report = copy.Report(0);
        Assert.Equal(monitor.Observed, report.Observed);
        Assert.DoesNotContain(report.Signals, s => s.Name == "reconstruction_error"); // empty window
        var before = monitor.Report(0).Signals.Single(s => s.Name == "reconstruction_error");
        copy.Observe(s_data.Slice(4_500, 100));
        Assert.Equal(before.Baseline, copy.Report(0).Signals.Single(s => s.Name == "reconstruction_error").Baseline);
        copy.RunPeriodicTests(); // 300 newest rows kept, plus 100 new: enough for a test
        Assert.Contains(copy.Report(0).Signals, s => s.Name == "mmd");
    }

    [Fact]
    public void TruncatedBytesAreACorruptStoreNamingThePath()
    {
        var (built, monitor) = Observed();
        var bytes = Bytes(monitor);
        var rng = new Random(1);
        var cuts = Enumerable.Range(0, 40).Select(_ => rng.Next(bytes.Length)).Concat([0, 3, 5, 20, bytes.Length - 1]);
        foreach (int cut in cuts)
        {
            var e = Assert.Throws<StoreCorruptedException>(() => Load(bytes[..cut], built));
            Assert.Equal("/db/c/snap-7.vss", e.Path);
            Assert.Contains("drift baseline", e.Message);
        }
    }

    [Theory]
    [InlineData(0, 0x00)]     // magic
    [InlineData(4, 0x09)]     // version
    [InlineData(5, 0x11)]     // dimension
    [InlineData(13, 0x07)]    // M
    [InlineData(21, 0xFF)]    // lists
    [InlineData(40, 0x80)]    // calibration count (its high byte: negative)
    public void BadHeaderBytesAreACorruptStore(int offset, byte value)
    {
        var (built, monitor) = Observed();
        var bytes = Bytes(monitor);
        bytes[offset] = value;
        Assert.Throws<StoreCorruptedException>(() => Load(bytes, built));
    }

    [Fact]
    public void CorruptCountsAndValuesAreRefused()
    {
        var (built, monitor) = Observed();
        var bytes = Bytes(monitor);
        // The first sub-code count of the baseline (after header 33 bytes, count, error, clip rate): made huge.
        var bad = (byte[])bytes.Clone();
        BitConverter.GetBytes(long.MaxValue / 2).CopyTo(bad, 33 + 8 + 8 + 8);
        Assert.Throws<StoreCorruptedException>(() => Load(bad, built));
        // The reconstruction baseline made NaN.
        bad = (byte[])bytes.Clone();
        BitConverter.GetBytes(double.NaN).CopyTo(bad, 33 + 8);
        Assert.Throws<StoreCorruptedException>(() => Load(bad, built));
    }

    [Fact]
    public void BaselineOfAnotherIndexShapeIsRefused()
    {
        var (_, monitor) = Observed("ivf:16", "pq:4x4");
        var other = DriftMonitorTests.Train("ivf:16", "pq:8", s_data.Slice(0, 3_000));
        var e = Assert.Throws<StoreCorruptedException>(() => Load(Bytes(monitor), other));
        Assert.Contains("does not fit index", e.Message);
    }
}
