using System.Collections.Concurrent;
using VectorStore.Distance;
using VectorStore.Indexing;
using VectorStore.Lifecycle;

namespace VectorStore.Drift;

/// <summary>
/// The drift sensors of one trained index (one generation): compares what is inserted now with the sample the index
/// was trained on, and says in a <see cref="DriftReport"/> which signals crossed their thresholds.
/// </summary>
/// <remarks>
/// <para>Per insert batch (<see cref="Observe"/>), on a sampled fraction of the vectors (<see cref="DriftSettings.SampleRate"/>),
/// from the encoding itself, over a sliding window of the most recent sampled vectors: the codec's relative
/// reconstruction error (<c>reconstruction_error</c>); for range codecs (sq8) the fraction of coordinates clipped at
/// the range's end (<c>clip_rate</c>); for sub-codebook codecs (PQ) the PSI of each sub-quantizer's entry usage
/// against training, averaged (<c>code_usage_psi</c>); for partitioned indexes (IVF) the imbalance of the window's
/// list assignments (<c>list_imbalance</c>), of the whole index's lists (<c>index_list_imbalance</c>), and the
/// median and 90th percentile of the distance to the nearest centroid (<c>centroid_distance_p50</c>,
/// <c>centroid_distance_p90</c>). Sensors that do not apply to the codec or index are absent from the report, and
/// a windowed sensor joins it once its window holds <see cref="DriftSettings.MinWindowVectors"/>.</para>
/// <para>Every <see cref="DriftSettings.TestInterval"/> observed vectors, on a background task, on a reservoir of the
/// most recent sampled vectors against the kept training sample: the mean shift in units of the training spread
/// (<c>mean_shift</c>) and an MMD two-sample test with a permutation threshold (<c>mmd</c>); they join the report
/// after the first test.</para>
/// <para>Thresholds that depend on how many vectors a value summarizes (PSI, imbalance, mean shift, MMD) are set
/// against the value a same-sized sample of the training distribution would show, so a small window does not fire
/// on its own noise.</para>
/// <para>Thread-safety: every member may be called from any number of threads at once. <see cref="Observe"/> does
/// its encoding without a lock and holds the monitor's lock only to add up what it measured; reports and writes see
/// whole batches (or whole groups of <c>WindowSize/8</c> sampled vectors of a larger batch).</para>
/// </remarks>
public sealed partial class DriftMonitor
{
    private const int Chunks = 8;
    private readonly CodeProbe _probe;
    private readonly DriftSettings _settings;
    private readonly DriftBaseline _baseline;
    private readonly int _seed;
    private readonly object _gate = new();
    private readonly SensorReadings[] _window;
    private readonly int _chunkCapacity;
    private readonly float[] _reservoir;
    private readonly int _reservoirCapacity;
    private readonly ConcurrentBag<(ProbeBuffers Buffers, ProbeResults Results)> _scratch = [];
    private int _current;
    private int _reservoirCount;
    private int _reservoirNext;
    private long _reservoirAdded; // rows ever added to the ring by this object (a read-back monitor starts at its count)
    private long _observed;
    private int _testRunning;
    private int _testPending;
    private long _nextTestAt; // Environment.TickCount64 before which no periodic test starts (the CPU budget)
    private Task _background = Task.CompletedTask;
    private PeriodicResult? _periodic;
    private int _tests;

    private DriftMonitor(CodeProbe probe, DriftBaseline baseline, DriftSettings settings, int seed)
    {
        _probe = probe;
        _baseline = baseline;
        _settings = settings;
        _seed = seed;
        _chunkCapacity = Math.Max(1, (settings.WindowSize + Chunks - 1) / Chunks);
        _window = new SensorReadings[Chunks];
        for (int i = 0; i < Chunks; i++) _window[i] = NewReadings();
        _reservoirCapacity = settings.ReservoirSize;
        _reservoir = new float[(long)_reservoirCapacity * probe.Dimension];
    }

    /// <summary>
    /// A monitor for <paramref name="index"/>, whose baseline is measured on <paramref name="trainingSample"/>: the
    /// vectors the index was trained on, as the index received them (normalized for cosine). Costs about one
    /// encoding of <see cref="DriftSettings.CalibrationSampleSize"/> of them (in parallel).
    /// </summary>
    /// <exception cref="InvalidArgumentException">Bad settings, fewer than 2 training vectors, or a <paramref name="kind"/> other than the index's.</exception>
    /// <exception cref="InvalidVectorException">The sample's dimension is not the index's.</exception>
    public static DriftMonitor Create(VectorIndex index, VectorMatrix trainingSample, DistanceKind kind, DriftSettings settings, int seed)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(trainingSample);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        if (kind != index.DistanceKind) throw new InvalidArgumentException($"drift: distance {kind} differs from the index's {index.DistanceKind}");
        var probe = new CodeProbe(index);
        if (trainingSample.Dimension != probe.Dimension)
            throw new InvalidVectorException($"drift: expected dimension {probe.Dimension}, got {trainingSample.Dimension}");
        if (trainingSample.Count < 2) throw new InvalidArgumentException($"drift: needs at least 2 training vectors, got {trainingSample.Count}");
        var calibration = trainingSample.Sample(settings.CalibrationSampleSize, seed);
        var sample = trainingSample.Sample(settings.BaselineSampleSize, seed + 1);
        var baseline = DriftBaseline.Measure(probe, calibration, sample, settings, seed);
        return new DriftMonitor(probe, baseline, settings, seed);
    }

    /// <summary>The settings the monitor runs with.</summary>
    public DriftSettings Settings => _settings;

    /// <summary>Rows ever added to the reservoir by this object (one read back starts at the rows it kept).</summary>
    internal long ReservoirAdded
    {
        get { lock (_gate) return _reservoirAdded; }
    }

    /// <summary>Rows the reservoir holds when full (<see cref="DriftSettings.ReservoirSize"/>).</summary>
    internal int ReservoirCapacity => _reservoirCapacity;

    /// <summary>Vectors observed since the monitor was created (kept across <see cref="Write"/>/<see cref="Read(BinaryReader, VectorIndex, DriftSettings, string)"/>).</summary>
    public long Observed => Interlocked.Read(ref _observed);

    /// <summary>Resident bytes: baseline, window, reservoir and the pooled per-thread buffers.</summary>
    public long MemoryBytes
    {
        get
        {
            long chunk = ((long)_probe.SubQuantizers * (_baseline.Entries) + _probe.Lists + (_probe.Lists > 0 ? DriftBaseline.DistanceBins : 0)) * sizeof(int) + 32;
            long scratch = 0;
            foreach (var (_, results) in _scratch) scratch += results.Bytes + 8L * _probe.Dimension + _probe.Codec.CodeSize;
            return _baseline.Bytes + Chunks * chunk + _reservoir.LongLength * sizeof(float) + scratch;
        }
    }

    /// <summary>
    /// Feeds one insert batch (after it was applied; as the index received it, normalized for cosine). Encodes the
    /// sampled rows with the index's codec into pooled buffers (no allocation per vector once warm), adds what it
    /// measured to the window and the rows to the reservoir, and starts the periodic tests in the background when the
    /// batch crosses a multiple of <see cref="DriftSettings.TestInterval"/>.
    /// </summary>
    /// <exception cref="InvalidVectorException">The batch's dimension is not the index's.</exception>
    public void Observe(VectorMatrix batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Dimension != _probe.Dimension) throw new InvalidVectorException($"drift: expected dimension {_probe.Dimension}, got {batch.Dimension}");
        int n = batch.Count;
        if (n == 0) return;
        long start = Interlocked.Add(ref _observed, n) - n;
        double rate = _settings.SampleRate;
        if (!_scratch.TryTake(out var scratch)) scratch = (_probe.NewBuffers(), new ProbeResults(_chunkCapacity, _probe.SubQuantizers));
        try
        {
            int group = 0;
            for (int i = 0; i < n; i++)
            {
                // Every 1/rate-th vector in arrival order: floor((k+1)·rate) steps up exactly at the sampled ones.
                long k = start + i;
                if ((long)((k + 1) * rate) == (long)(k * rate)) continue;
                scratch.Results.Rows[group] = i;
                _probe.Measure(batch.Row(i), scratch.Buffers, scratch.Results, group);
                if (++group == _chunkCapacity)
                {
                    Commit(batch, scratch.Results, group);
                    group = 0;
                }
            }
            if (group > 0) Commit(batch, scratch.Results, group);
        }
        finally
        {
            _scratch.Add(scratch);
        }
        int interval = _settings.TestInterval;
        if ((start + n) / interval != start / interval) StartPeriodicTests();
    }

    private void Commit(VectorMatrix batch, ProbeResults results, int count)
    {
        int m = _probe.SubQuantizers, entries = _baseline.Entries, dim = _probe.Dimension;
        lock (_gate)
        {
            var chunk = _window[_current];
            if (chunk.Count > 0 && chunk.Count + count > _chunkCapacity)
            {
                _current = (_current + 1) % Chunks;
                chunk = _window[_current];
                chunk.Clear();
            }
            chunk.Count += count;
            for (int i = 0; i < count; i++)
            {
                chunk.ErrorSum += results.Errors[i];
                chunk.Saturated += results.Saturated[i];
                if (chunk.SubCodes is { } sub)
                    for (int j = 0; j < m; j++) sub[j * entries + results.SubCodes[i * m + j]]++;
                if (chunk.Lists is { } lists)
                {
                    lists[results.Lists[i]]++;
                    chunk.Distances![_baseline.Bin(results.Distances[i])]++;
                }
                batch.Row(results.Rows[i]).CopyTo(_reservoir.AsSpan(_reservoirNext * dim, dim));
                _reservoirNext = (_reservoirNext + 1) % _reservoirCapacity;
                _reservoirCount = Math.Min(_reservoirCount + 1, _reservoirCapacity);
                _reservoirAdded++;
            }
        }
    }

    private SensorReadings NewReadings() =>
        new(_probe.SubQuantizers * _baseline.Entries, _probe.Lists, DriftBaseline.DistanceBins);

    /// <summary>
    /// Every applicable signal now, against <paramref name="generation"/>'s training baseline (the caller says which
    /// generation this monitor belongs to). Per-batch sensors cover the current window; <c>mean_shift</c> and
    /// <c>mmd</c> are those of the latest periodic test.
    /// </summary>
    public DriftReport Report(int generation)
    {
        var s = _settings;
        var b = _baseline;
        var signals = new List<DriftSignal>();
        var total = NewReadings();
        PeriodicResult? periodic;
        lock (_gate)
        {
            foreach (var chunk in _window) chunk.AddTo(total);
            periodic = _periodic;
        }
        long n = total.Count;
        if (n >= s.MinWindowVectors)
        {
            if (_probe.Reconstructs && b.RelativeError > 0)
                signals.Add(new DriftSignal("reconstruction_error", total.ErrorSum / n, b.RelativeError * s.ReconstructionErrorFactor, b.RelativeError));
            if (_probe.Saturation is { } sat)
                signals.Add(new DriftSignal("clip_rate", total.Saturated / ((double)n * sat.QuantizedDimensions),
                    s.ClipRateFactor * Math.Max(b.ClipRate, 0.001), b.ClipRate));
            if (total.SubCodes is { } sub)
            {
                double expected = b.NullPsi(n);
                signals.Add(new DriftSignal("code_usage_psi", DriftStatistics.Psi(sub, n, b.SubCodeCounts, b.Count, b.SubQuantizers, b.Entries),
                    Math.Max(expected * s.CodeUsagePsiFactor, expected + s.CodeUsagePsiMargin), expected));
            }
            if (total.Lists is { } lists)
            {
                double expected = b.NullImbalance(n);
                signals.Add(new DriftSignal("list_imbalance", DriftStatistics.Imbalance(lists), expected * s.ListImbalanceFactor, expected));
                double width = b.DistanceBinWidth;
                signals.Add(new DriftSignal("centroid_distance_p50", DriftStatistics.Quantile(total.Distances, width, 0.5),
                    b.DistanceP50 * s.CentroidDistanceFactor, b.DistanceP50));
                signals.Add(new DriftSignal("centroid_distance_p90", DriftStatistics.Quantile(total.Distances, width, 0.9),
                    b.DistanceP90 * s.CentroidDistanceFactor, b.DistanceP90));
            }
        }
        if (_probe.Partitioned is { } partitioned)
        {
            var sizes = new int[partitioned.Lists];
            partitioned.CopyListSizes(sizes);
            long entries = 0;
            foreach (int c in sizes) entries += c;
            if (entries >= s.MinWindowVectors)
            {
                double expected = b.NullImbalance(entries);
                signals.Add(new DriftSignal("index_list_imbalance", DriftStatistics.Imbalance(sizes), expected * s.ListImbalanceFactor, expected));
            }
        }
        if (periodic is { } p)
        {
            signals.Add(new DriftSignal("mean_shift", p.MeanShift, p.MeanShiftExpected + s.MeanShiftMargin, p.MeanShiftExpected));
            signals.Add(new DriftSignal("mmd", p.Mmd.Statistic, p.Mmd.Threshold, p.Mmd.NullMean));
        }
        return new DriftReport { Generation = generation, Observed = Observed, Signals = signals, Sensors = true };
    }

    /// <summary>
    /// Starts the periodic tests on a background task, or marks them pending for the one running. They run at most
    /// <see cref="DriftSettings.TestCpuShare"/> of one core: one MMD test at the default sizes costs about 0.1 s of
    /// CPU, and a durable ingest crosses the 1,000-vector interval every 10-20 ms, so unthrottled the tests took a
    /// whole core from the writers (10 % of a 50k-vector load's CPU in a profile, on a 2-core machine). Crossings
    /// that arrive while a test runs or waits collapse into one later test over the then newest reservoir, so the
    /// last vectors are always tested.
    /// </summary>
    private void StartPeriodicTests()
    {
        Volatile.Write(ref _testPending, 1);
        if (Interlocked.CompareExchange(ref _testRunning, 1, 0) != 0) return;
        _background = Task.Run(async () =>
        {
            try
            {
                while (Interlocked.Exchange(ref _testPending, 0) == 1)
                {
                    long wait = Volatile.Read(ref _nextTestAt) - Environment.TickCount64;
                    if (wait > 0) await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(wait, int.MaxValue))).ConfigureAwait(false);
                    long start = System.Diagnostics.Stopwatch.GetTimestamp();
                    RunPeriodicTests();
                    double ms = System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    Volatile.Write(ref _nextTestAt, Environment.TickCount64 + (long)(ms * (1 / _settings.TestCpuShare - 1)));
                }
            }
            finally
            {
                // A full fence between the release and the re-check (a plain write may pass the read that follows).
                Interlocked.Exchange(ref _testRunning, 0);
                // A crossing between the last check and the release found the flag taken: run for it now (also after
                // a failed test, so that crossing is not dropped).
                if (Volatile.Read(ref _testPending) == 1) StartPeriodicTests();
            }
        });
    }

    /// <summary>How many observed vectors the latest periodic test covered, or −1 before the first (tests).</summary>
    internal long LastTestObserved
    {
        get { lock (_gate) return _periodic?.Observed ?? -1; }
    }

    /// <summary>The latest background run of the periodic tests (completed when none runs).</summary>
    internal Task BackgroundTests => Volatile.Read(ref _background);

    /// <summary>
    /// Runs the periodic tests (mean shift, MMD) now on the calling thread, as <see cref="Observe"/> does in the
    /// background every <see cref="DriftSettings.TestInterval"/> vectors; does nothing while the reservoir holds
    /// fewer than <see cref="DriftSettings.MinWindowVectors"/> (or a full reservoir, when smaller). Costs about
    /// (2·<see cref="DriftSettings.TestSampleSize"/>)² kernel values plus as many per permutation.
    /// </summary>
    public void RunPeriodicTests()
    {
        var s = _settings;
        var b = _baseline;
        int dim = _probe.Dimension;
        VectorMatrix recent;
        var mean = new double[dim];
        int count, test;
        long observed;
        lock (_gate)
        {
            count = _reservoirCount;
            if (count < Math.Min(s.MinWindowVectors, _reservoirCapacity)) return;
            for (int i = 0; i < count; i++)
            {
                var row = _reservoir.AsSpan(i * dim, dim);
                for (int d = 0; d < dim; d++) mean[d] += row[d];
            }
            test = ++_tests;
            observed = Observed;
            // Rows by age (oldest first), whatever the ring's rotation, so a monitor read back picks the same ones.
            int first = OldestOfNewest(count), capacity = _reservoirCapacity;
            recent = Pick(new VectorMatrix(_reservoir, dim), count, s.TestSampleSize, new Random(_seed + test), i => (first + i) % capacity);
        }
        double shift = 0;
        for (int d = 0; d < dim; d++)
        {
            double diff = mean[d] / count - b.Mean[d];
            shift += diff * diff;
        }
        shift = b.Spread > 0 ? Math.Sqrt(shift) / b.Spread : 0;
        // ‖Δmean‖² of two independent samples of one distribution averages trace(Σ)·(1/n + 1/N).
        double expected = Math.Sqrt(1.0 / count + 1.0 / b.Count);
        var rng = new Random(_seed ^ (test * 7919));
        var reference = Pick(b.Sample, b.Sample.Count, s.TestSampleSize, rng, i => i);
        var mmd = MmdTest.Run(recent, reference, s.Permutations, s.FalseAlarmRate, rng);
        lock (_gate)
        {
            if (_periodic is null || _periodic.Observed <= observed) _periodic = new PeriodicResult(observed, shift, expected, mmd);
        }
    }

    /// <summary>
    /// The ring position of the oldest of the reservoir's newest <paramref name="newest"/> rows (at most its count),
    /// whatever the ring's rotation; the caller holds the monitor's lock.
    /// </summary>
    private int OldestOfNewest(int newest) => ((_reservoirNext - newest) % _reservoirCapacity + _reservoirCapacity) % _reservoirCapacity;

    /// <summary>A copy of at most <paramref name="max"/> of <paramref name="count"/> rows (logical row i at <paramref name="physical"/>(i)), drawn without replacement.</summary>
    private static VectorMatrix Pick(VectorMatrix source, int count, int max, Random rng, Func<int, int> physical)
    {
        int take = Math.Min(count, max);
        var rows = new int[count];
        for (int i = 0; i < count; i++) rows[i] = physical(i);
        for (int i = 0; i < take; i++)
        {
            int j = rng.Next(i, count);
            (rows[i], rows[j]) = (rows[j], rows[i]);
        }
        return source.Select(rows.AsSpan(0, take));
    }

    /// <summary>The latest periodic tests, as of <paramref name="Observed"/> vectors.</summary>
    private sealed record PeriodicResult(long Observed, double MeanShift, double MeanShiftExpected, MmdResult Mmd);
}
