namespace VectorStore.Drift;

/// <summary>
/// Thresholds and budgets of a <see cref="DriftMonitor"/>. Defaults are documented per property and were chosen on
/// the shared text set (synopses as training data, held-out synopses as the no-drift stream, paragraphs as the drift:
/// notes/issue-16-drift.md). <see cref="Validate"/> checks them. Immutable, so thread-safe.
/// </summary>
public sealed record DriftSettings
{
    /// <summary>
    /// Fraction of observed vectors the per-batch sensors encode and the reservoir keeps (every 1/rate-th vector, in
    /// arrival order), so the sensors cost about this fraction of the index's own encoding work. Default 0.25.
    /// </summary>
    public double SampleRate { get; init; } = 0.25;

    /// <summary>
    /// Sampled vectors the per-batch sensors (reconstruction error, clip rate, code usage, list imbalance,
    /// centroid distances) summarize: their values are over (about) the most recent this many. Default 1,000.
    /// </summary>
    public int WindowSize { get; init; } = 1_000;

    /// <summary>
    /// Sampled vectors a per-batch sensor needs in its window before it reports (fewer say too little to compare
    /// with training). Default 100.
    /// </summary>
    public int MinWindowVectors { get; init; } = 100;

    /// <summary>Relative reconstruction error fires at its training value times this. Default 1.15.</summary>
    public double ReconstructionErrorFactor { get; init; } = 1.15;

    /// <summary>
    /// The int8 clip rate (coordinates at the end of the trained range) fires at this times its training value,
    /// taken as at least 0.001 so a codec that clips nothing in training does not fire on a single value. Default 2.
    /// </summary>
    public double ClipRateFactor { get; init; } = 2.0;

    /// <summary>
    /// PQ code-usage divergence fires at this times the PSI a window of the same size drawn from the training sample
    /// shows (its finite-sample expectation), or at that expectation plus <see cref="CodeUsagePsiMargin"/> when that
    /// is higher. Default 1.75: codebooks fit their training sample, so unseen vectors of the same distribution
    /// already read up to 1.6× the expectation with 256 entries per sub-quantizer on the text set (paragraphs 1.8–2.1×;
    /// with 16 entries 1.06× and 7×).
    /// </summary>
    public double CodeUsagePsiFactor { get; init; } = 1.75;

    /// <summary>The smallest excess over the expected PSI that fires (see <see cref="CodeUsagePsiFactor"/>). Default 0.05.</summary>
    public double CodeUsagePsiMargin { get; init; } = 0.05;

    /// <summary>
    /// IVF list imbalance (NLIST·Σ size² / n², of the window's list assignments and of the whole index) fires at this
    /// times its no-drift expectation. Default 1.3.
    /// </summary>
    public double ListImbalanceFactor { get; init; } = 1.3;

    /// <summary>The p50 and p90 distances to the nearest IVF centroid fire at their training values times this. Default 1.1.</summary>
    public double CentroidDistanceFactor { get; init; } = 1.1;

    /// <summary>
    /// Mean shift (‖mean of the reservoir − mean of training‖ over the training RMS spread) fires at its
    /// finite-sample no-drift expectation plus this margin. Default 0.1.
    /// </summary>
    public double MeanShiftMargin { get; init; } = 0.1;

    /// <summary>Recent sampled vectors kept for the periodic tests (mean shift and MMD). Default 2,000.</summary>
    public int ReservoirSize { get; init; } = 2_000;

    /// <summary>Training vectors the monitor keeps (and persists) as the two-sample tests' reference. Default 2,000.</summary>
    public int BaselineSampleSize { get; init; } = 2_000;

    /// <summary>
    /// Training vectors (at most) the per-batch sensors' baselines are measured on at <see cref="DriftMonitor.Create"/>.
    /// Default 10,000.
    /// </summary>
    public int CalibrationSampleSize { get; init; } = 10_000;

    /// <summary>
    /// The periodic tests run every this many observed vectors (all of them, sampled or not), on a background task,
    /// once the reservoir holds <see cref="MinWindowVectors"/>. Default 1,000.
    /// </summary>
    public int TestInterval { get; init; } = 1_000;

    /// <summary>
    /// The share of one core the background periodic tests may use: after a test that took t, the next starts no
    /// sooner than t·(1/share − 1) later, and the interval crossings in between make one test of the newest vectors.
    /// 1 runs them back to back; at least 0.001. Default 0.1.
    /// </summary>
    public double TestCpuShare { get; init; } = 0.1;

    /// <summary>Vectors drawn from each side (reservoir and baseline sample) for one MMD test. Default 400.</summary>
    public int TestSampleSize { get; init; } = 400;

    /// <summary>Label permutations that estimate the MMD's no-drift distribution. Default 200.</summary>
    public int Permutations { get; init; } = 200;

    /// <summary>
    /// The MMD test's false-alarm rate: it fires above the (1 − rate) quantile of the permuted statistics. Needs at
    /// least 1/rate permutations. Default 0.01.
    /// </summary>
    public double FalseAlarmRate { get; init; } = 0.01;

    /// <summary>Throws <see cref="InvalidArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (!(SampleRate is > 0 and <= 1)) throw new InvalidArgumentException($"drift sample rate must be in (0, 1], got {SampleRate}");
        if (WindowSize is < 8 or > 1_000_000) throw new InvalidArgumentException($"drift window must be in 8..1000000 vectors, got {WindowSize}");
        if (MinWindowVectors < 1 || MinWindowVectors > WindowSize)
            throw new InvalidArgumentException($"drift minimum window must be in 1..{WindowSize} (the window), got {MinWindowVectors}");
        Factor(ReconstructionErrorFactor, "reconstruction error factor");
        Factor(ClipRateFactor, "clip rate factor");
        Factor(CodeUsagePsiFactor, "code usage PSI factor");
        Factor(ListImbalanceFactor, "list imbalance factor");
        Factor(CentroidDistanceFactor, "centroid distance factor");
        if (!(CodeUsagePsiMargin is > 0 and < 100)) throw new InvalidArgumentException($"code usage PSI margin must be in (0, 100), got {CodeUsagePsiMargin}");
        if (!(MeanShiftMargin is > 0 and < 100)) throw new InvalidArgumentException($"mean shift margin must be in (0, 100), got {MeanShiftMargin}");
        if (ReservoirSize is < 2 or > 1_000_000) throw new InvalidArgumentException($"drift reservoir must be in 2..1000000 vectors, got {ReservoirSize}");
        if (BaselineSampleSize is < 2 or > 1_000_000) throw new InvalidArgumentException($"drift baseline sample must be in 2..1000000 vectors, got {BaselineSampleSize}");
        if (CalibrationSampleSize is < 2 or > 10_000_000) throw new InvalidArgumentException($"drift calibration sample must be in 2..10000000 vectors, got {CalibrationSampleSize}");
        if (TestInterval < 1) throw new InvalidArgumentException($"drift test interval must be at least 1 vector, got {TestInterval}");
        if (!(TestCpuShare is >= 0.001 and <= 1)) throw new InvalidArgumentException($"drift test CPU share must be in [0.001, 1], got {TestCpuShare}");
        if (TestSampleSize is < 2 or > 2_000) throw new InvalidArgumentException($"drift test sample must be in 2..2000 vectors, got {TestSampleSize}");
        if (!(FalseAlarmRate is > 0 and < 0.5)) throw new InvalidArgumentException($"drift false-alarm rate must be in (0, 0.5), got {FalseAlarmRate}");
        if (Permutations > 100_000 || Permutations * FalseAlarmRate < 1)
            throw new InvalidArgumentException($"drift permutations must be in {(int)Math.Ceiling(1 / FalseAlarmRate)}..100000 (at least 1/false-alarm rate), got {Permutations}");
    }

    private static void Factor(double value, string what)
    {
        if (!(value is > 1 and < 1000)) throw new InvalidArgumentException($"{what} must be in (1, 1000), got {value}");
    }
}
