using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using VectorStore.Distance;
using VectorStore.Ranking;
using VectorStore.Threading;

namespace VectorStore.Quantization;

/// <summary>
/// A learned linear map to D dimensions (<c>distill:D</c>) that imitates the full-precision (teacher) similarity.
/// It starts from PCA and is refined with Adam on the teacher's neighbour ranking of a calibration sample: for each
/// training query the candidates are its teacher top-100 plus random points, and the loss is the listwise softmax
/// cross-entropy between teacher and student similarities (temperature τ) plus a squared similarity-matching term
/// that keeps student scores on the teacher's scale.
/// </summary>
/// <remarks>
/// PCA keeps the directions that hold the most energy over all pairs; the ranking loss spends the D dimensions on what
/// separates a query's true neighbours from the near misses, which is what recall@k measures. Immutable and
/// thread-safe.
/// </remarks>
public sealed class DistillTransform : VectorTransform, ITransformDiagnostics
{
    private readonly float[] _w;        // OutputDimension × InputDimension, row-major
    private readonly float[] _pinv;     // InputDimension × OutputDimension: least-squares inverse for Decode

    internal DistillTransform(int inputDimension, int outputDimension, float[] weights, double initialLoss, double finalLoss)
    {
        if (weights.Length != (long)inputDimension * outputDimension) throw new InvalidDataException("distill: matrix size mismatch");
        InputDimension = inputDimension;
        OutputDimension = outputDimension;
        _w = weights;
        InitialLoss = initialLoss;
        FinalLoss = finalLoss;
        var w = Matrix<double>.Build.Dense(outputDimension, inputDimension, (j, i) => weights[j * inputDimension + i]);
        var p = w.PseudoInverse();
        _pinv = new float[inputDimension * outputDimension];
        for (int i = 0; i < inputDimension; i++)
            for (int j = 0; j < outputDimension; j++) _pinv[i * outputDimension + j] = (float)p[i, j];
    }

    /// <summary>Mean training loss per query over the first epoch (starting from PCA).</summary>
    public double InitialLoss { get; }

    /// <summary>Training loss after the last epoch (mean per query).</summary>
    public double FinalLoss { get; }

    /// <inheritdoc />
    public override string Kind => "distill";

    /// <inheritdoc />
    public override string Spec => $"distill:{OutputDimension}";

    /// <inheritdoc />
    public override int InputDimension { get; }

    /// <inheritdoc />
    public override int OutputDimension { get; }

    /// <inheritdoc />
    public override long ParameterBytes => (long)_w.Length * sizeof(float) * 2;

    /// <inheritdoc />
    public string Diagnostics => string.Create(CultureInfo.InvariantCulture, $"ranking loss {InitialLoss:F4} (first epoch) -> {FinalLoss:F4}");

    /// <inheritdoc />
    public override void Apply(ReadOnlySpan<float> input, Span<float> output)
    {
        if (input.Length != InputDimension) throw new InvalidVectorException($"expected dimension {InputDimension}, got {input.Length}");
        DotProductBatch.Compute(input, _w, OutputDimension, output);
    }

    /// <inheritdoc />
    public override void Invert(ReadOnlySpan<float> output, Span<float> input)
    {
        int d = OutputDimension;
        for (int i = 0; i < InputDimension; i++) input[i] = DotProduct.Compute(output[..d], _pinv.AsSpan(i * d, d));
    }

    /// <inheritdoc />
    public override void WriteParameters(BinaryWriter writer)
    {
        writer.Write(InputDimension);
        writer.Write(OutputDimension);
        writer.Write(InitialLoss);
        writer.Write(FinalLoss);
        foreach (var v in _w) writer.Write(v);
    }

    internal static DistillTransform ReadParameters(BinaryReader reader)
    {
        var (n, d) = ReadDimensions(reader, "distill");
        double l0 = reader.ReadDouble(), l1 = reader.ReadDouble();
        var w = new float[d * n];
        for (int i = 0; i < w.Length; i++) w[i] = reader.ReadSingle();
        return new DistillTransform(n, d, w, l0, l1);
    }

    /// <summary>Fits a D-dimensional map on <paramref name="sample"/>.</summary>
    public static DistillTransform Fit(VectorMatrix sample, int outputDimension, DistanceKind kind, DistillOptions? options = null,
        int seed = 42, int threads = 0, IProgress<(string Stage, double Fraction)>? progress = null)
    {
        options ??= new DistillOptions();
        int n = sample.Dimension, dOut = outputDimension;
        if (dOut > n) throw new InvalidArgumentException($"distill: cannot project {n} dimensions to {dOut}");
        var pca = PcaTransform.Fit(sample, dOut, kind, whiten: false, seed: seed);
        var w = (float[])pca.Components.Clone();

        var pool = sample.Sample(options.Pool, seed);
        int nn = Math.Min(options.Neighbours, pool.Count - 2);
        if (nn < 2) return new DistillTransform(n, dOut, w, 0, 0);
        var rng = new Random(seed + 17);
        var queryRows = Enumerable.Range(0, options.Queries).Select(_ => rng.Next(pool.Count)).ToArray();
        var queries = pool.Select(queryRows);
        var truth = GroundTruth.Compute(pool, queries, nn + 1, kind, threads);
        var candidates = new int[queryRows.Length][];
        for (int q = 0; q < queryRows.Length; q++)
        {
            var list = truth[q].Where(s => s != queryRows[q]).Take(nn).ToList();
            for (int r = 0; r < options.RandomNegatives; r++) list.Add(rng.Next(pool.Count));
            candidates[q] = list.ToArray();
        }
        // Teacher similarities (−distance): fixed, so computed once.
        var teacher = new float[queryRows.Length][];
        for (int q = 0; q < queryRows.Length; q++)
            teacher[q] = candidates[q].Select(c => -Distances.Compute(kind, queries.Row(q), pool.Row(c))).ToArray();

        // The temperature and matching weight are in cosine-similarity units (per-query spreads of about 0.1). Squared
        // L2 distances can be 10⁵ (SIFT), which would make the softmax one-hot and the matching term dominate, so L2
        // scores are rescaled to an RMS per-query spread of 0.1. Inner products are used as they are.
        float scoreScale = kind == DistanceKind.L2 ? (float)(0.1 / Math.Max(1e-12, RmsSpread(teacher))) : 1f;
        if (scoreScale != 1f)
            foreach (var t in teacher)
                for (int i = 0; i < t.Length; i++) t[i] *= scoreScale;

        var po = EngineParallel.Options(threads);
        var m = new double[w.Length];
        var v = new double[w.Length];
        const double Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-8;
        int step = 0;
        double initialLoss = double.NaN, lastLoss = 0;
        var order = Enumerable.Range(0, queryRows.Length).ToArray();
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            rng.Shuffle(order);
            double epochLoss = 0;
            for (int start = 0; start < order.Length; start += options.BatchSize)
            {
                int count = Math.Min(options.BatchSize, order.Length - start);
                var grad = new double[w.Length];
                double batchLoss = 0;
                object gate = new();
                Parallel.For(0, count, po, () => (G: new double[w.Length], L: 0.0), (b, _, acc) =>
                {
                    int q = order[start + b];
                    acc.L += QueryGradient(w, n, dOut, kind, queries.Row(q), pool, candidates[q], teacher[q], scoreScale, options, acc.G);
                    return acc;
                }, acc =>
                {
                    lock (gate)
                    {
                        for (int i = 0; i < grad.Length; i++) grad[i] += acc.G[i];
                        batchLoss += acc.L;
                    }
                });
                epochLoss += batchLoss;
                step++;
                double lr = options.LearningRate * Math.Sqrt(1 - Math.Pow(Beta2, step)) / (1 - Math.Pow(Beta1, step));
                for (int i = 0; i < w.Length; i++)
                {
                    double g = grad[i] / count;
                    m[i] = Beta1 * m[i] + (1 - Beta1) * g;
                    v[i] = Beta2 * v[i] + (1 - Beta2) * g * g;
                    w[i] -= (float)(lr * m[i] / (Math.Sqrt(v[i]) + Eps));
                }
            }
            lastLoss = epochLoss / order.Length;
            if (epoch == 0) initialLoss = lastLoss;
            progress?.Report(("distill", (epoch + 1.0) / options.Epochs));
        }
        return new DistillTransform(n, dOut, w, initialLoss, lastLoss);
    }

    /// <summary>Root mean square over queries of the standard deviation of each query's teacher scores.</summary>
    private static double RmsSpread(float[][] teacher)
    {
        double sum = 0;
        foreach (var t in teacher)
        {
            double mean = t.Average(v => (double)v);
            sum += t.Sum(v => (v - mean) * (v - mean)) / t.Length;
        }
        return Math.Sqrt(sum / Math.Max(1, teacher.Length));
    }

    /// <summary>
    /// Adds one query's loss gradient with respect to W into <paramref name="grad"/>; returns its loss. Student scores
    /// are multiplied by <paramref name="scale"/>, the factor already applied to <paramref name="teacher"/>.
    /// </summary>
    private static double QueryGradient(float[] w, int n, int dOut, DistanceKind kind, ReadOnlySpan<float> q, VectorMatrix pool,
        int[] cands, float[] teacher, float scale, DistillOptions o, double[] grad)
    {
        int c = cands.Length;
        Span<float> u = stackalloc float[dOut];
        Span<float> proj = stackalloc float[dOut];
        Span<float> diff = n <= 2048 ? stackalloc float[n] : new float[n];
        var s = new double[c];
        var pv = new float[c * dOut];
        for (int j = 0; j < dOut; j++) u[j] = DotProduct.Compute(q, w.AsSpan(j * n, n));
        for (int i = 0; i < c; i++)
        {
            var x = pool.Row(cands[i]);
            var vi = pv.AsSpan(i * dOut, dOut);
            for (int j = 0; j < dOut; j++) vi[j] = DotProduct.Compute(x, w.AsSpan(j * n, n));
            s[i] = scale * (kind == DistanceKind.L2 ? -SquaredL2.Compute(u, vi) : DotProduct.Compute(u, vi));
        }
        // Listwise softmax cross-entropy (teacher distribution as target) plus squared similarity matching.
        double tau = o.Temperature;
        double tMax = teacher.Max(), sMax = s.Max();
        double tSum = 0, sSum = 0;
        for (int i = 0; i < c; i++) { tSum += Math.Exp((teacher[i] - tMax) / tau); sSum += Math.Exp((s[i] - sMax) / tau); }
        double loss = 0;
        var g = new double[c];
        for (int i = 0; i < c; i++)
        {
            double p = Math.Exp((teacher[i] - tMax) / tau) / tSum;
            double logSigma = (s[i] - sMax) / tau - Math.Log(sSum);
            loss -= p * logSigma;
            double err = s[i] - teacher[i];
            loss += o.SimilarityWeight * err * err;
            // Chain rule through the scaling: ∂loss/∂(raw score) = scale · ∂loss/∂(scaled score).
            g[i] = scale * ((Math.Exp(logSigma) - p) / tau + 2 * o.SimilarityWeight * err);
        }
        if (kind == DistanceKind.L2)
        {
            // s_i = −‖W(q − x_i)‖² → ∂s_i/∂W = −2 (W δ_i) δ_i^T.
            for (int i = 0; i < c; i++)
            {
                var x = pool.Row(cands[i]);
                for (int k = 0; k < n; k++) diff[k] = q[k] - x[k];
                var vi = pv.AsSpan(i * dOut, dOut);
                for (int j = 0; j < dOut; j++) proj[j] = u[j] - vi[j];
                for (int j = 0; j < dOut; j++)
                {
                    double coef = -2 * g[i] * proj[j];
                    int row = j * n;
                    for (int k = 0; k < n; k++) grad[row + k] += coef * diff[k];
                }
            }
            return loss;
        }
        // s_i = (Wq)·(W x_i) → ∂s_i/∂W = u x_i^T + v_i q^T, so Σ g_i ∂s_i/∂W = u (Σ g_i x_i)^T + (Σ g_i v_i) q^T.
        var gx = new double[n];
        var gv = new double[dOut];
        for (int i = 0; i < c; i++)
        {
            var x = pool.Row(cands[i]);
            for (int k = 0; k < n; k++) gx[k] += g[i] * x[k];
            var vi = pv.AsSpan(i * dOut, dOut);
            for (int j = 0; j < dOut; j++) gv[j] += g[i] * vi[j];
        }
        for (int j = 0; j < dOut; j++)
        {
            int row = j * n;
            double uj = u[j], gvj = gv[j];
            for (int k = 0; k < n; k++) grad[row + k] += uj * gx[k] + gvj * q[k];
        }
        return loss;
    }
}
