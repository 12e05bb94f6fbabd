using System.Globalization;
using VectorStore.Distance;
using VectorStore.Ranking;
using VectorStore.Threading;

namespace VectorStore.Quantization;

/// <summary>
/// Structured pruning (<c>prune:D</c>, <c>prune:D,var</c>): keeps D of the input dimensions and drops the rest, so the
/// output is a dense, shorter vector (no masks). Dimensions are chosen by a ranking-sensitivity score by default, or
/// by their variance contribution with <c>,var</c>.
/// </summary>
/// <remarks>
/// Sensitivity: on a calibration sample, for each query q, each true top-10 neighbour n and each near competitor c
/// (ranks 11–40), dropping dimension d shifts the score gap between n and c by δ_d = f_d(q,n) − f_d(q,c), where f_d
/// is d's term of the distance (−q_d·x_d for inner products, (q_d − x_d)² for L2). The score is E[δ_d²]: the
/// dimensions whose removal would most perturb the nearest-neighbour ranking are kept. Immutable and thread-safe.
/// </remarks>
public sealed class PruneTransform : VectorTransform, ITransformDiagnostics
{
    private readonly int[] _keep;

    internal PruneTransform(int inputDimension, int[] keep, bool byVariance, double retained)
    {
        if (keep.Length == 0 || keep.Any(k => (uint)k >= (uint)inputDimension) || keep.Distinct().Count() != keep.Length)
            throw new InvalidDataException("prune: bad kept-dimension list");
        InputDimension = inputDimension;
        _keep = keep;
        ByVariance = byVariance;
        RetainedScore = retained;
    }

    /// <summary>Kept input dimensions, ascending (output dimension j is input dimension Kept[j]).</summary>
    public IReadOnlyList<int> Kept => _keep;

    /// <summary>Whether dimensions were chosen by variance contribution rather than ranking sensitivity.</summary>
    public bool ByVariance { get; }

    /// <summary>Fraction of the selection score (sensitivity or variance) that the kept dimensions hold.</summary>
    public double RetainedScore { get; }

    /// <inheritdoc />
    public override string Kind => "prune";

    /// <inheritdoc />
    public override string Spec => ByVariance ? $"prune:{OutputDimension},var" : $"prune:{OutputDimension}";

    /// <inheritdoc />
    public override int InputDimension { get; }

    /// <inheritdoc />
    public override int OutputDimension => _keep.Length;

    /// <inheritdoc />
    public override long ParameterBytes => _keep.Length * sizeof(int);

    /// <inheritdoc />
    public string Diagnostics => string.Create(CultureInfo.InvariantCulture,
        $"{(ByVariance ? "variance" : "sensitivity")} retained {RetainedScore:F3}");

    /// <inheritdoc />
    public override void Apply(ReadOnlySpan<float> input, Span<float> output)
    {
        if (input.Length != InputDimension) throw new InvalidVectorException($"expected dimension {InputDimension}, got {input.Length}");
        for (int j = 0; j < _keep.Length; j++) output[j] = input[_keep[j]];
    }

    /// <inheritdoc />
    public override void Invert(ReadOnlySpan<float> output, Span<float> input)
    {
        input[..InputDimension].Clear();
        for (int j = 0; j < _keep.Length; j++) input[_keep[j]] = output[j];
    }

    /// <inheritdoc />
    public override void WriteParameters(BinaryWriter writer)
    {
        writer.Write(InputDimension);
        writer.Write(_keep.Length);
        writer.Write(ByVariance);
        writer.Write(RetainedScore);
        foreach (var k in _keep) writer.Write(k);
    }

    internal static PruneTransform ReadParameters(BinaryReader reader)
    {
        var (n, d) = ReadDimensions(reader, "prune");
        bool byVar = reader.ReadBoolean();
        double retained = reader.ReadDouble();
        var keep = new int[d];
        for (int j = 0; j < d; j++) keep[j] = reader.ReadInt32();
        return new PruneTransform(n, keep, byVar, retained);
    }

    /// <summary>Per-dimension variance contribution (second moment for inner products, variance for L2).</summary>
    internal static double[] VarianceScores(VectorMatrix data, DistanceKind kind)
    {
        int n = data.Dimension;
        var sum = new double[n];
        var sq = new double[n];
        for (int r = 0; r < data.Count; r++)
        {
            var row = data.Row(r);
            for (int i = 0; i < n; i++) { sum[i] += row[i]; sq[i] += (double)row[i] * row[i]; }
        }
        var score = new double[n];
        for (int i = 0; i < n; i++)
        {
            double m = sum[i] / data.Count;
            score[i] = kind == DistanceKind.L2 ? sq[i] / data.Count - m * m : sq[i] / data.Count;
        }
        return score;
    }

    /// <summary>Per-dimension ranking sensitivity E[δ_d²] (see the type remarks) on a calibration sample.</summary>
    internal static double[] SensitivityScores(VectorMatrix data, DistanceKind kind, int seed, int threads = 0)
    {
        const int Near = 10, Far = 40;
        int n = data.Dimension;
        var pool = data.Sample(8_000, seed);
        if (pool.Count <= Far + 1) return VarianceScores(data, kind);
        var rng = new Random(seed + 1);
        var queryRows = Enumerable.Range(0, Math.Min(400, pool.Count)).Select(_ => rng.Next(pool.Count)).Distinct().ToArray();
        var queries = pool.Select(queryRows);
        // One extra neighbour: a query drawn from the pool finds itself first, and is skipped below.
        var truth = GroundTruth.Compute(pool, queries, Far + 1, kind, threads);
        var total = new double[n];
        var po = EngineParallel.Options(threads);
        object gate = new();
        Parallel.For(0, queries.Count, po, () => new double[n], (qi, _, acc) =>
        {
            var q = queries.Row(qi);
            var ranked = truth[qi].Where(s => s != queryRows[qi]).ToArray();
            int near = Math.Min(Near, ranked.Length);
            for (int a = 0; a < near; a++)
            {
                var x = pool.Row(ranked[a]);
                for (int b = near; b < Math.Min(Far, ranked.Length); b++)
                {
                    var y = pool.Row(ranked[b]);
                    for (int d = 0; d < n; d++)
                    {
                        double delta = kind == DistanceKind.L2
                            ? (q[d] - x[d]) * (q[d] - x[d]) - (q[d] - y[d]) * (q[d] - y[d])
                            : -q[d] * (x[d] - y[d]);
                        acc[d] += delta * delta;
                    }
                }
            }
            return acc;
        }, acc => { lock (gate) for (int d = 0; d < n; d++) total[d] += acc[d]; });
        return total;
    }

    /// <summary>Keeps the <paramref name="outputDimension"/> highest-scoring dimensions of <paramref name="sample"/>.</summary>
    public static PruneTransform Fit(VectorMatrix sample, int outputDimension, DistanceKind kind, bool byVariance, int seed = 42, int threads = 0)
    {
        int n = sample.Dimension;
        if (outputDimension > n) throw new InvalidArgumentException($"prune: cannot keep {outputDimension} of {n} dimensions");
        var score = byVariance ? VarianceScores(sample, kind) : SensitivityScores(sample, kind, seed, threads);
        var keep = Enumerable.Range(0, n).OrderByDescending(i => score[i]).ThenBy(i => i).Take(outputDimension).Order().ToArray();
        double all = score.Sum();
        double kept = keep.Sum(i => score[i]);
        return new PruneTransform(n, keep, byVariance, all > 0 ? kept / all : 0);
    }
}
