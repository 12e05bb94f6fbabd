using VectorStore.Distance;
using VectorStore.Threading;

namespace VectorStore.Drift;

/// <summary>
/// What the sensors compare against: each statistic on the training sample, the no-drift expectations that depend on
/// the window's size, and a kept sample of training vectors for the two-sample tests. Immutable after
/// <see cref="Measure"/> or <see cref="Read"/>, so thread-safe.
/// </summary>
internal sealed class DriftBaseline
{
    /// <summary>Bins of the distance-to-centroid histograms (the last one also holds everything beyond the range).</summary>
    public const int DistanceBins = 1024;

    private DriftBaseline(int dimension, int subQuantizers, int entries, int lists)
    {
        Dimension = dimension;
        SubQuantizers = subQuantizers;
        Entries = entries;
        Lists = lists;
        SubCodeCounts = new long[subQuantizers * entries];
        ListCounts = new long[lists];
        Mean = new float[dimension];
    }

    public int Dimension { get; }
    public int SubQuantizers { get; }
    public int Entries { get; }
    public int Lists { get; }

    /// <summary>Training vectors the statistics were measured on.</summary>
    public long Count { get; private set; }

    /// <summary>Mean relative reconstruction error ‖x − x̂‖ / ‖x‖ (NaN when the codec does not reconstruct).</summary>
    public double RelativeError { get; private set; } = double.NaN;

    /// <summary>Fraction of quantized coordinates at the end of the range (NaN when the codec has no ranges).</summary>
    public double ClipRate { get; private set; } = double.NaN;

    /// <summary>Uses of each (sub-quantizer, entry) over the training vectors.</summary>
    public long[] SubCodeCounts { get; }

    /// <summary>The no-drift PSI of a window of n training vectors against all of them is about A + B/n.</summary>
    public double PsiA { get; private set; }

    /// <inheritdoc cref="PsiA"/>
    public double PsiB { get; private set; }

    /// <summary>Training vectors routed to each list.</summary>
    public long[] ListCounts { get; }

    /// <summary>NLIST·Σ q² of the training assignments (q = share of each list).</summary>
    public double Imbalance { get; private set; }

    /// <summary>Upper end of the distance histograms: twice the largest training distance to the nearest centroid.</summary>
    public double DistanceMax { get; private set; }

    public double DistanceP50 { get; private set; }
    public double DistanceP90 { get; private set; }

    /// <summary>Mean training vector.</summary>
    public float[] Mean { get; }

    /// <summary>RMS distance of a training vector from <see cref="Mean"/> (√ of the covariance trace).</summary>
    public double Spread { get; private set; }

    /// <summary>Training vectors kept as the two-sample tests' reference.</summary>
    public VectorMatrix Sample { get; private set; } = new(0, 1);

    public double DistanceBinWidth => DistanceMax / DistanceBins;

    /// <summary>The PSI a window of <paramref name="n"/> vectors drawn from the training distribution shows on average.</summary>
    public double NullPsi(long n) => Math.Max(0, PsiA + PsiB * (1.0 / n + 1.0 / Count));

    /// <summary>The expected window imbalance of n vectors drawn from the training assignments: E = I₀ + (L − I₀)/n.</summary>
    public double NullImbalance(long n) => Imbalance + (Lists - Imbalance) / n;

    public long Bytes => (SubCodeCounts.LongLength + ListCounts.LongLength) * sizeof(long)
        + (Mean.LongLength + Sample.Data.LongLength) * sizeof(float);

    /// <summary>Measures every statistic on <paramref name="calibration"/>; keeps <paramref name="sample"/>.</summary>
    public static DriftBaseline Measure(CodeProbe probe, VectorMatrix calibration, VectorMatrix sample, DriftSettings settings, int seed)
    {
        int n = calibration.Count, dim = calibration.Dimension, m = probe.SubQuantizers;
        var b = new DriftBaseline(dim, m, probe.SubCodebooks?.EntriesPerSubQuantizer ?? 0, probe.Lists) { Count = n, Sample = sample };
        var results = new ProbeResults(n, m);
        Parallel.For(0, n, EngineParallel.Options(), probe.NewBuffers, (i, _, buffers) =>
        {
            probe.Measure(calibration.Row(i), buffers, results, i);
            return buffers;
        }, _ => { });

        if (probe.Reconstructs)
        {
            double sum = 0;
            for (int i = 0; i < n; i++) sum += results.Errors[i];
            b.RelativeError = sum / n;
        }
        if (probe.Saturation is { } sat)
        {
            long s = 0;
            for (int i = 0; i < n; i++) s += results.Saturated[i];
            b.ClipRate = s / ((double)n * sat.QuantizedDimensions);
        }
        if (m > 0)
        {
            for (int i = 0; i < n; i++)
                for (int j = 0; j < m; j++) b.SubCodeCounts[j * b.Entries + results.SubCodes[(long)i * m + j]]++;
            b.FitNullPsi(results.SubCodes, settings, seed);
        }
        if (b.Lists > 0)
        {
            for (int i = 0; i < n; i++) b.ListCounts[results.Lists[i]]++;
            double sq = 0;
            foreach (long c in b.ListCounts) sq += (double)c * c;
            b.Imbalance = b.Lists * sq / ((double)n * n);
            float max = 0;
            for (int i = 0; i < n; i++) max = Math.Max(max, results.Distances[i]);
            b.DistanceMax = max > 0 ? 2.0 * max : 1.0;
            var histogram = new int[DistanceBins];
            for (int i = 0; i < n; i++) histogram[b.Bin(results.Distances[i])]++;
            b.DistanceP50 = DriftStatistics.Quantile(histogram, b.DistanceBinWidth, 0.5);
            b.DistanceP90 = DriftStatistics.Quantile(histogram, b.DistanceBinWidth, 0.9);
        }

        var mean = new double[dim];
        for (int i = 0; i < n; i++)
        {
            var row = calibration.Row(i);
            for (int d = 0; d < dim; d++) mean[d] += row[d];
        }
        for (int d = 0; d < dim; d++) b.Mean[d] = (float)(mean[d] / n);
        double spread = 0;
        for (int i = 0; i < n; i++) spread += SquaredL2.Compute(calibration.Row(i), b.Mean);
        b.Spread = Math.Sqrt(spread / n);
        return b;
    }

    /// <summary>The histogram bin of distance <paramref name="d"/>.</summary>
    public int Bin(float d) => (int)Math.Clamp(d / DistanceBinWidth, 0, DistanceBins - 1);

    /// <summary>
    /// Fits the no-drift PSI's dependence on the window size: bootstrap windows of the smallest and the largest size a
    /// report uses, drawn from the training codes and compared with all of them, give A + B/n; the training histogram's
    /// own noise adds B/N (see <see cref="NullPsi"/>).
    /// </summary>
    private void FitNullPsi(byte[] codes, DriftSettings settings, int seed)
    {
        const int Repeats = 8;
        int small = settings.MinWindowVectors, large = settings.WindowSize, m = SubQuantizers;
        var rng = new Random(seed ^ 0x5D1F7);
        var counts = new int[SubCodeCounts.Length];
        double Mean(int size)
        {
            double sum = 0;
            for (int r = 0; r < Repeats; r++)
            {
                Array.Clear(counts);
                for (int i = 0; i < size; i++)
                {
                    long row = rng.NextInt64(Count);
                    for (int j = 0; j < m; j++) counts[j * Entries + codes[row * m + j]]++;
                }
                sum += DriftStatistics.Psi(counts, size, SubCodeCounts, Count, m, Entries);
            }
            return sum / Repeats;
        }
        double atSmall = Mean(small), atLarge = Mean(large);
        if (small == large)
        {
            PsiA = 0;
            PsiB = atLarge * large;
            return;
        }
        PsiB = Math.Max(0, (atSmall - atLarge) / (1.0 / small - 1.0 / large));
        PsiA = atLarge - PsiB / large;
    }

    /// <summary>Writes the baseline part of data-format.md §4.4.1 ("Drift baseline").</summary>
    public void Write(BinaryWriter w)
    {
        w.Write(Count);
        w.Write(RelativeError);
        w.Write(ClipRate);
        foreach (long c in SubCodeCounts) w.Write(c);
        if (SubQuantizers > 0)
        {
            w.Write(PsiA);
            w.Write(PsiB);
        }
        foreach (long c in ListCounts) w.Write(c);
        if (Lists > 0)
        {
            w.Write(Imbalance);
            w.Write(DistanceMax);
            w.Write(DistanceP50);
            w.Write(DistanceP90);
        }
        foreach (float v in Mean) w.Write(v);
        w.Write(Spread);
        w.Write(Sample.Count);
        foreach (float v in Sample.Data) w.Write(v);
    }

    /// <summary>Reads what <see cref="Write"/> wrote for this shape; bad values give <see cref="InvalidDataException"/>.</summary>
    public static DriftBaseline Read(BinaryReader r, CodeProbe probe)
    {
        int dimension = probe.Dimension, subQuantizers = probe.SubQuantizers, lists = probe.Lists;
        int entries = probe.SubCodebooks?.EntriesPerSubQuantizer ?? 0;
        var b = new DriftBaseline(dimension, subQuantizers, entries, lists);
        b.Count = r.ReadInt64();
        if (b.Count is < 2 or > int.MaxValue) throw new InvalidDataException($"bad calibration count {b.Count}");
        b.RelativeError = r.ReadDouble();
        b.ClipRate = r.ReadDouble();
        // NaN exactly when the codec has no such statistic.
        if (probe.Reconstructs ? !(b.RelativeError is >= 0 and < double.PositiveInfinity) : !double.IsNaN(b.RelativeError)
            || (probe.Saturation is not null ? !(b.ClipRate is >= 0 and <= 1) : !double.IsNaN(b.ClipRate)))
            throw new InvalidDataException($"bad baseline (error {b.RelativeError}, clip rate {b.ClipRate})");
        ReadCounts(r, b.SubCodeCounts, subQuantizers, b.Count);
        if (subQuantizers > 0)
        {
            b.PsiA = Finite(r.ReadDouble(), "PSI fit");
            b.PsiB = Finite(r.ReadDouble(), "PSI fit");
        }
        ReadCounts(r, b.ListCounts, lists > 0 ? 1 : 0, b.Count);
        if (lists > 0)
        {
            b.Imbalance = Finite(r.ReadDouble(), "imbalance");
            b.DistanceMax = Finite(r.ReadDouble(), "distance range");
            b.DistanceP50 = Finite(r.ReadDouble(), "distance p50");
            b.DistanceP90 = Finite(r.ReadDouble(), "distance p90");
            if (b.Imbalance < 1 - 1e-9 || b.Imbalance > lists + 1e-9 || !(b.DistanceMax > 0))
                throw new InvalidDataException($"bad list baseline (imbalance {b.Imbalance}, distance range {b.DistanceMax})");
        }
        for (int d = 0; d < dimension; d++) b.Mean[d] = (float)Finite(r.ReadSingle(), "mean");
        b.Spread = Finite(r.ReadDouble(), "spread");
        if (b.Spread < 0) throw new InvalidDataException($"bad spread {b.Spread}");
        int rows = r.ReadInt32();
        if (rows is < 0 or > 1_000_000) throw new InvalidDataException($"bad baseline sample size {rows}");
        b.Sample = new VectorMatrix(Floats(r, (long)rows * dimension), dimension);
        return b;
    }

    /// <summary>
    /// Reads <paramref name="count"/> finite floats. A count the stream cannot hold is refused before allocating when
    /// the stream knows its length; otherwise the array grows as values arrive, so a bad count meets the stream's end
    /// before it costs its full size in memory.
    /// </summary>
    public static float[] Floats(BinaryReader r, long count)
    {
        var s = r.BaseStream;
        if (s.CanSeek && count * sizeof(float) > s.Length - s.Position)
            throw new InvalidDataException($"{count} floats announced, {s.Length - s.Position} bytes left");
        var a = new float[Math.Min(count, 1 << 16)];
        for (long i = 0; i < count; i++)
        {
            if (i == a.Length) Array.Resize(ref a, (int)Math.Min(count, 2L * a.Length));
            a[i] = (float)Finite(r.ReadSingle(), "vector value");
        }
        return a;
    }

    private static void ReadCounts(BinaryReader r, long[] counts, int groups, long total)
    {
        long sum = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            counts[i] = r.ReadInt64();
            if (counts[i] < 0 || counts[i] > total) throw new InvalidDataException($"bad baseline count {counts[i]}");
            sum += counts[i];
        }
        if (sum != total * groups) throw new InvalidDataException($"baseline counts sum to {sum}, expected {total * groups}");
    }

    private static double Finite(double v, string what) =>
        double.IsFinite(v) ? v : throw new InvalidDataException($"bad {what}: {v}");
}
