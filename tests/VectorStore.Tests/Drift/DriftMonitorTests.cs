using VectorStore.Clustering;
using VectorStore.Drift;
using VectorStore.Evaluation;
using VectorStore.Indexing;
using VectorStore.Lifecycle;
using VectorStore.Quantization;
using Xunit;

namespace VectorStore.Tests.Drift;

/// <summary>
/// The sensors on synthetic clustered data: a held-out stream from the training distribution must leave every
/// signal quiet, and each kind of shift must fire the sensors that see it.
/// </summary>
public sealed class DriftMonitorTests
{
    private const int Dim = 32;

    /// <summary>Small, fast settings: every vector sampled, a window of 800, tests on 200 + 200 vectors.</summary>
    internal static readonly DriftSettings Fast = new()
    {
        SampleRate = 1.0, WindowSize = 800, MinWindowVectors = 100, ReservoirSize = 800, BaselineSampleSize = 1_000,
        CalibrationSampleSize = 4_000, TestInterval = 500, TestSampleSize = 200, Permutations = 200,
    };

    // One generator call, split: the same clusters for training, held-out and shifted streams.
    private static readonly VectorMatrix s_data = SyntheticData.Clustered(10_000, Dim, seed: 5, clusters: 24, rank: 8, noise: 0.2);
    private static VectorMatrix Training => s_data.Slice(0, 4_000);
    private static VectorMatrix HeldOut => s_data.Slice(4_000, 3_000);

    internal static VectorIndex Train(string index, string compression, VectorMatrix sample, DistanceKind kind = DistanceKind.L2)
    {
        var spec = IndexSpec.Parse(index);
        var built = IndexRegistry.Get(spec).Create(spec, CompressionSpec.Parse(compression), sample.Dimension, kind, sample, new TrainingContext { Seed = 3 });
        built.AddBatch(Enumerable.Range(0, sample.Count).ToArray(), sample, 0);
        return built;
    }

    internal static void Stream(DriftMonitor monitor, VectorMatrix data, int batch = 100, VectorIndex? index = null, int firstSlot = 1_000_000)
    {
        for (int start = 0; start < data.Count; start += batch)
        {
            var part = data.Slice(start, Math.Min(batch, data.Count - start));
            index?.AddBatch(Enumerable.Range(firstSlot + start, part.Count).ToArray(), part, 1);
            monitor.Observe(part);
        }
    }

    /// <summary>Waits for the background test runs (a run may start a follow-up), so a synchronous run afterwards is the latest.</summary>
    internal static void Settle(DriftMonitor monitor)
    {
        for (var run = monitor.BackgroundTests; ; )
        {
            run.GetAwaiter().GetResult();
            var next = monitor.BackgroundTests;
            if (next == run) return;
            run = next;
        }
    }

    private static DriftSignal Signal(DriftReport report, string name) =>
        report.Signals.SingleOrDefault(s => s.Name == name) ?? throw new Xunit.Sdk.XunitException($"no {name} in [{Names(report)}]");

    private static string Names(DriftReport r) => string.Join(", ", r.Signals.Select(s => $"{s.Name}={s.Value:G4}/{s.Threshold:G4}"));

    private static VectorMatrix Map(VectorMatrix source, Func<int, float, float> f)
    {
        var m = source.Slice(0, source.Count);
        for (int i = 0; i < m.Data.Length; i++) m.Data[i] = f(i % source.Dimension, m.Data[i]);
        return m;
    }

    private static DriftReport Run(string index, string compression, VectorMatrix stream)
    {
        var built = Train(index, compression, Training);
        var monitor = DriftMonitor.Create(built, Training, DistanceKind.L2, Fast, seed: 11);
        Stream(monitor, stream, index: built);
        Settle(monitor);
        monitor.RunPeriodicTests();
        return monitor.Report(1);
    }

    [Fact]
    public void HeldOutStreamFromTheTrainingDistributionFiresNothing()
    {
        var report = Run("ivf:32", "pq:8x4", HeldOut);
        Assert.Equal(3_000, report.Observed);
        Assert.Equal(1, report.Generation);
        string[] expected = ["reconstruction_error", "code_usage_psi", "list_imbalance", "index_list_imbalance",
            "centroid_distance_p50", "centroid_distance_p90", "mean_shift", "mmd"];
        Assert.Equal(expected.Order(), report.Signals.Select(s => s.Name).Order());
        Assert.False(report.Drifted, Names(report));
        // The baselines are the training statistics, so a same-distribution stream reads close to them.
        var err = Signal(report, "reconstruction_error");
        Assert.InRange(err.Value / err.Baseline, 0.9, 1.1);
    }

    [Fact]
    public void Sq8HeldOutStreamDoesNotClipAndScaledStreamDoes()
    {
        var quiet = Run("flat", "sq8", HeldOut);
        Assert.False(quiet.Drifted, Names(quiet));
        Assert.DoesNotContain(quiet.Signals, s => s.Name is "code_usage_psi" or "list_imbalance" or "centroid_distance_p50");
        var clip = Signal(quiet, "clip_rate");
        Assert.True(clip.Value < clip.Threshold, Names(quiet));

        // Twice the spread around each dimension's centre: values leave the trained ranges.
        var mean = Mean(Training);
        var scaled = Run("flat", "sq8", Map(HeldOut, (d, v) => mean[d] + 2 * (v - mean[d])));
        Assert.True(Signal(scaled, "clip_rate").Fired, Names(scaled));
        Assert.True(Signal(scaled, "mmd").Fired, Names(scaled));
    }

    [Fact]
    public void TranslatedStreamFiresMeanShiftMmdAndEncodingSensors()
    {
        // Half the training RMS spread along one direction: every vector moves, none leaves the data's scale.
        double spread = Spread(Training);
        var direction = Enumerable.Range(0, Dim).Select(d => (float)(d % 2 == 0 ? 1 : -1) / MathF.Sqrt(Dim)).ToArray();
        var shifted = Map(HeldOut, (d, v) => v + (float)(0.5 * spread) * direction[d]);
        var report = Run("ivf:32", "pq:8x4", shifted);
        foreach (var name in new[] { "mean_shift", "mmd", "reconstruction_error", "code_usage_psi", "centroid_distance_p50", "centroid_distance_p90" })
            Assert.True(Signal(report, name).Fired, $"{name}: {Names(report)}");
    }

    [Fact]
    public void ScaledStreamFiresCentroidDistanceAndReconstructionError()
    {
        var mean = Mean(Training);
        var scaled = Run("ivf:32", "pq:8x4", Map(HeldOut, (d, v) => mean[d] + 1.6f * (v - mean[d])));
        Assert.True(Signal(scaled, "centroid_distance_p50").Fired, Names(scaled));
        Assert.True(Signal(scaled, "reconstruction_error").Fired, Names(scaled));
        Assert.True(Signal(scaled, "mmd").Fired, Names(scaled));
    }

    [Fact]
    public void StreamFromFewClustersFiresListImbalanceAndCodeUsage()
    {
        // Same distribution restricted to the vectors of the four lists the training data fills most: nothing is
        // out of range, but the window lands in few lists and uses few codes.
        var built = Train("ivf:32", "pq:8x4", Training);
        var partitioned = (IPartitionedIndex)built;
        var buffer = new float[Dim];
        var sizes = new int[partitioned.Lists];
        partitioned.CopyListSizes(sizes);
        var top = Enumerable.Range(0, sizes.Length).OrderByDescending(l => sizes[l]).Take(4).ToHashSet();
        var rows = Enumerable.Range(0, HeldOut.Count).Where(i => top.Contains(partitioned.Route(HeldOut.Row(i), buffer, out _))).ToArray();
        Assert.True(rows.Length > 300, $"{rows.Length} rows");
        var monitor = DriftMonitor.Create(built, Training, DistanceKind.L2, Fast, seed: 11);
        Stream(monitor, HeldOut.Select(rows), index: built);
        var report = monitor.Report(1);
        Assert.True(Signal(report, "list_imbalance").Fired, Names(report));
        Assert.True(Signal(report, "code_usage_psi").Fired, Names(report));
        Assert.False(Signal(report, "centroid_distance_p90").Fired, Names(report));
    }

    [Fact]
    public void ExactCodecAndFlatIndexReportOnlyThePeriodicTests()
    {
        var report = Run("flat", "none", HeldOut);
        Assert.Equal(["mean_shift", "mmd"], report.Signals.Select(s => s.Name).Order());
        Assert.False(report.Drifted, Names(report));
    }

    [Fact]
    public void TransformChainsForwardToTheInnerCodec()
    {
        var report = Run("flat", "pca:16+pq:4x4", HeldOut);
        Assert.Contains(report.Signals, s => s.Name == "code_usage_psi");
        Assert.Contains(report.Signals, s => s.Name == "reconstruction_error");
        Assert.False(report.Drifted, Names(report));
        var sq = Run("flat", "pca:16+sq8", HeldOut);
        Assert.Contains(sq.Signals, s => s.Name == "clip_rate");
    }

    [Fact]
    public void WindowedSensorsWaitForEnoughVectors()
    {
        var built = Train("ivf:32", "pq:8x4", Training);
        var monitor = DriftMonitor.Create(built, Training, DistanceKind.L2, Fast, seed: 11);
        Assert.DoesNotContain(monitor.Report(0).Signals, s => s.Name != "index_list_imbalance");
        monitor.Observe(HeldOut.Slice(0, 50));
        Assert.DoesNotContain(monitor.Report(0).Signals, s => s.Name != "index_list_imbalance");
        monitor.Observe(HeldOut.Slice(50, 50));
        Assert.Contains(monitor.Report(0).Signals, s => s.Name == "reconstruction_error");
    }

    [Fact]
    public void SampleRateEncodesThatFractionAndCountsEveryVector()
    {
        var built = Train("flat", "pq:8x4", Training);
        var monitor = DriftMonitor.Create(built, Training, DistanceKind.L2, Fast with { SampleRate = 0.25, MinWindowVectors = 100 }, seed: 11);
        monitor.Observe(HeldOut.Slice(0, 399));
        Assert.Equal(399, monitor.Observed);
        Assert.DoesNotContain(monitor.Report(0).Signals, s => s.Name == "reconstruction_error"); // 99 sampled
        monitor.Observe(HeldOut.Slice(399, 1));
        Assert.Contains(monitor.Report(0).Signals, s => s.Name == "reconstruction_error"); // the 100th
    }

    [Fact]
    public void ConcurrentObserveLosesNothing()
    {
        var built = Train("ivf:32", "pq:8x4", Training);
        var settings = Fast with { WindowSize = 4_000, ReservoirSize = 4_000, TestInterval = 1_000_000 };
        var serial = DriftMonitor.Create(built, Training, DistanceKind.L2, settings, seed: 11);
        var parallel = DriftMonitor.Create(built, Training, DistanceKind.L2, settings, seed: 11);
        var batches = Enumerable.Range(0, 30).Select(i => HeldOut.Slice(i * 100, 100)).ToArray();
        foreach (var b in batches) serial.Observe(b);
        Parallel.ForEach(batches, new ParallelOptions { MaxDegreeOfParallelism = 4 }, parallel.Observe);
        Assert.Equal(3_000, parallel.Observed);
        var a = serial.Report(0).Signals;
        var b2 = parallel.Report(0).Signals;
        Assert.Equal(a.Select(s => s.Name), b2.Select(s => s.Name));
        for (int i = 0; i < a.Count; i++) Assert.Equal(a[i].Value, b2[i].Value, 9);
        // The reservoir holds the same vectors in another order: the mean shift does not depend on it.
        serial.RunPeriodicTests();
        parallel.RunPeriodicTests();
        Assert.Equal(serial.Report(0).Signals.Single(s => s.Name == "mean_shift").Value,
            parallel.Report(0).Signals.Single(s => s.Name == "mean_shift").Value, 5);
    }

    [Fact]
    public async Task ReportsAndWritesRunBesideConcurrentObserve()
    {
        var built = Train("ivf:32", "pq:8x4", Training);
        var monitor = DriftMonitor.Create(built, Training, DistanceKind.L2, Fast, seed: 11);
        var batches = Enumerable.Range(0, 60).Select(i => HeldOut.Slice(i * 50, 50)).ToArray();
        using var done = new CancellationTokenSource();
        int reads = 0;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reader = Task.Run(() =>
        {
            started.SetResult();
            while (!done.IsCancellationRequested || reads < 5)
            {
                var report = monitor.Report(2);
                Assert.All(report.Signals, s => Assert.True(double.IsFinite(s.Value) && double.IsFinite(s.Threshold), s.ToString()));
                using var ms = new MemoryStream();
                using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true)) monitor.Write(w);
                ms.Position = 0;
                var copy = DriftMonitor.Read(new BinaryReader(ms), built, Fast, "mem");
                Assert.True(copy.Observed <= monitor.Observed);
                reads++;
            }
        });
        await started.Task;
        Parallel.ForEach(batches, new ParallelOptions { MaxDegreeOfParallelism = 3 }, monitor.Observe);
        done.Cancel();
        await reader;
        await monitor.BackgroundTests;
        Assert.Equal(3_000, monitor.Observed);
        // The mmd sensor is a permutation test that fires on 1% of in-distribution windows by design, and under
        // concurrent Observe the reservoir's contents depend on the interleaving, so the seed does not fix its
        // outcome (CI saw it fire once). The other sensors are quiet on this stream whatever the interleaving.
        var quiet = monitor.Report(2).Signals.Where(s => s.Name != "mmd").ToArray();
        Assert.Contains(quiet, s => s.Name == "mean_shift");
        Assert.DoesNotContain(quiet, s => s.Fired);
        Assert.Contains(monitor.Report(2).Signals, s => s.Name == "mmd" && double.IsFinite(s.Value) && s.Threshold > 0);
    }

    [Fact]
    public void CreateRejectsMismatchedArguments()
    {
        var built = Train("flat", "pq:8x4", Training);
        Assert.Throws<InvalidArgumentException>(() => DriftMonitor.Create(built, Training, DistanceKind.NegativeDot, Fast, 1));
        Assert.Throws<InvalidVectorException>(() => DriftMonitor.Create(built, new VectorMatrix(10, Dim + 1), DistanceKind.L2, Fast, 1));
        Assert.Throws<InvalidArgumentException>(() => DriftMonitor.Create(built, Training.Slice(0, 1), DistanceKind.L2, Fast, 1));
        Assert.Throws<InvalidArgumentException>(() => DriftMonitor.Create(built, Training, DistanceKind.L2, Fast with { WindowSize = 0 }, 1));
        var monitor = DriftMonitor.Create(built, Training, DistanceKind.L2, Fast, 1);
        Assert.Throws<InvalidVectorException>(() => monitor.Observe(new VectorMatrix(3, Dim - 1)));
        Assert.True(monitor.MemoryBytes > 1_000L * Dim * sizeof(float), $"{monitor.MemoryBytes}");
    }

    public static TheoryData<string, DriftSettings> BadSettings => new()
    {
        { "sample rate", new DriftSettings { SampleRate = 0 } },
        { "sample rate", new DriftSettings { SampleRate = 1.5 } },
        { "sample rate", new DriftSettings { SampleRate = double.NaN } },
        { "window", new DriftSettings { WindowSize = 4 } },
        { "minimum window", new DriftSettings { MinWindowVectors = 5_000 } },
        { "minimum window", new DriftSettings { MinWindowVectors = 0 } },
        { "reconstruction error factor", new DriftSettings { ReconstructionErrorFactor = 1 } },
        { "clip rate factor", new DriftSettings { ClipRateFactor = 0.5 } },
        { "list imbalance factor", new DriftSettings { ListImbalanceFactor = double.PositiveInfinity } },
        { "centroid distance factor", new DriftSettings { CentroidDistanceFactor = -2 } },
        { "PSI margin", new DriftSettings { CodeUsagePsiMargin = 0 } },
        { "PSI factor", new DriftSettings { CodeUsagePsiFactor = 0.9 } },
        { "mean shift margin", new DriftSettings { MeanShiftMargin = -0.1 } },
        { "reservoir", new DriftSettings { ReservoirSize = 1 } },
        { "baseline sample", new DriftSettings { BaselineSampleSize = 0 } },
        { "calibration sample", new DriftSettings { CalibrationSampleSize = 1 } },
        { "test interval", new DriftSettings { TestInterval = 0 } },
        { "test CPU share", new DriftSettings { TestCpuShare = 0.0001 } },
        { "test CPU share", new DriftSettings { TestCpuShare = 1.5 } },
        { "test sample", new DriftSettings { TestSampleSize = 5_000 } },
        { "false-alarm rate", new DriftSettings { FalseAlarmRate = 0 } },
        { "permutations", new DriftSettings { Permutations = 50 } },
    };

    /// <summary>
    /// Interval crossings that arrive while a test runs, or waits for its CPU budget, are not dropped: they collapse
    /// into one later test, so once the background work settles the latest test covers every observed vector.
    /// </summary>
    [Fact]
    public void CrossingsDuringATestEndInOneTestOfTheNewestVectors()
    {
        var built = Train("flat", "sq8", Training);
        var monitor = DriftMonitor.Create(built, Training, DistanceKind.L2, Fast with { TestInterval = 100, TestCpuShare = 0.05 }, seed: 11);
        Stream(monitor, HeldOut);
        Settle(monitor);
        Assert.Equal(HeldOut.Count, monitor.LastTestObserved);
    }

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void ValidateNamesTheBadSetting(string what, DriftSettings settings)
    {
        var e = Assert.Throws<InvalidArgumentException>(settings.Validate);
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void DefaultSettingsAreValid() => new DriftSettings().Validate();

    internal static float[] Mean(VectorMatrix m)
    {
        var mean = new float[m.Dimension];
        for (int i = 0; i < m.Count; i++)
            for (int d = 0; d < m.Dimension; d++) mean[d] += m.Row(i)[d] / m.Count;
        return mean;
    }

    private static double Spread(VectorMatrix m)
    {
        var mean = Mean(m);
        double s = 0;
        for (int i = 0; i < m.Count; i++) s += VectorStore.Distance.SquaredL2.Compute(m.Row(i), mean);
        return Math.Sqrt(s / m.Count);
    }
}
