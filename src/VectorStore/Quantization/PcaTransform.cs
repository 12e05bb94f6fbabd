using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using VectorStore.Distance;
using VectorStore.Threading;

namespace VectorStore.Quantization;

/// <summary>
/// Low-rank projection (<c>pca:D</c>, <c>pca:D,w</c> to whiten): y = S·W·x, where the rows of W are the top-D
/// eigenvectors of the training sample's covariance (L2) or second-moment matrix (inner product / cosine), and S is
/// 1/√λ per component when whitening, else 1.
/// </summary>
/// <remarks>
/// The projection is applied without subtracting the mean: for L2 a shift cancels in every difference, and for inner
/// products subtracting the mean would change ⟨q,x⟩ by a term that depends on x, reordering results. That is also
/// why inner-product metrics use the uncentred second moment: it is the matrix whose top eigenvectors keep the most
/// of ⟨q,x⟩. Immutable and thread-safe.
/// </remarks>
public sealed class PcaTransform : VectorTransform, ITransformDiagnostics
{
    private readonly float[] _rows;   // OutputDimension × InputDimension, row-major, scale folded in
    private readonly float[] _scale;  // per output component (1 without whitening)

    internal PcaTransform(int inputDimension, float[] components, float[] scale, bool whiten, double explained)
    {
        InputDimension = inputDimension;
        OutputDimension = scale.Length;
        if (components.Length != (long)OutputDimension * inputDimension) throw new InvalidDataException("pca: matrix size mismatch");
        _scale = scale;
        _rows = new float[components.Length];
        for (int j = 0; j < OutputDimension; j++)
            for (int i = 0; i < inputDimension; i++)
                _rows[j * inputDimension + i] = components[j * inputDimension + i] * scale[j];
        Components = components;
        Whiten = whiten;
        ExplainedVariance = explained;
    }

    /// <summary>Unit-norm principal directions, row-major OutputDimension × InputDimension, largest eigenvalue first.</summary>
    internal float[] Components { get; }

    /// <summary>Whether components are scaled by 1/√eigenvalue.</summary>
    public bool Whiten { get; }

    /// <summary>Fraction of the training sample's variance (second moment for inner products) the kept components hold.</summary>
    public double ExplainedVariance { get; }

    /// <inheritdoc />
    public override string Kind => "pca";

    /// <inheritdoc />
    public override string Spec => Whiten ? $"pca:{OutputDimension},w" : $"pca:{OutputDimension}";

    /// <inheritdoc />
    public override int InputDimension { get; }

    /// <inheritdoc />
    public override int OutputDimension { get; }

    /// <inheritdoc />
    public override long ParameterBytes => (long)_rows.Length * sizeof(float) * 2 + _scale.Length * sizeof(float);

    /// <inheritdoc />
    public string Diagnostics => string.Create(CultureInfo.InvariantCulture, $"explained variance {ExplainedVariance:F3}");

    /// <inheritdoc />
    public override void Apply(ReadOnlySpan<float> input, Span<float> output)
    {
        if (input.Length != InputDimension) throw new InvalidVectorException($"expected dimension {InputDimension}, got {input.Length}");
        DotProductBatch.Compute(input, _rows, OutputDimension, output);
    }

    /// <inheritdoc />
    public override void Invert(ReadOnlySpan<float> output, Span<float> input)
    {
        // Components are orthonormal, so the transpose (with the whitening undone) is the least-squares inverse.
        int n = InputDimension;
        input[..n].Clear();
        for (int j = 0; j < OutputDimension; j++)
        {
            float c = output[j] / _scale[j];
            var row = Components.AsSpan(j * n, n);
            for (int i = 0; i < n; i++) input[i] += c * row[i];
        }
    }

    /// <inheritdoc />
    public override void WriteParameters(BinaryWriter writer)
    {
        writer.Write(InputDimension);
        writer.Write(OutputDimension);
        writer.Write(Whiten);
        writer.Write(ExplainedVariance);
        foreach (var s in _scale) writer.Write(s);
        foreach (var c in Components) writer.Write(c);
    }

    internal static PcaTransform ReadParameters(BinaryReader reader)
    {
        var (n, d) = ReadDimensions(reader, "pca");
        bool whiten = reader.ReadBoolean();
        double explained = reader.ReadDouble();
        var scale = new float[d];
        for (int j = 0; j < d; j++) scale[j] = reader.ReadSingle();
        var comps = new float[d * n];
        for (int i = 0; i < comps.Length; i++) comps[i] = reader.ReadSingle();
        return new PcaTransform(n, comps, scale, whiten, explained);
    }

    /// <summary>Fits <paramref name="outputDimension"/> components on <paramref name="sample"/>.</summary>
    public static PcaTransform Fit(VectorMatrix sample, int outputDimension, DistanceKind kind, bool whiten = false, int maxSample = 20_000, int seed = 42)
    {
        int n = sample.Dimension;
        if (outputDimension > n) throw new InvalidArgumentException($"pca: cannot project {n} dimensions to {outputDimension}");
        var (values, vectors) = Eigen(sample.Sample(maxSample, seed), center: kind == DistanceKind.L2);
        double total = values.Sum(v => Math.Max(v, 0));
        double kept = 0;
        var comps = new float[outputDimension * n];
        var scale = new float[outputDimension];
        for (int j = 0; j < outputDimension; j++)
        {
            double lambda = Math.Max(values[j], 0);
            kept += lambda;
            scale[j] = whiten ? (float)(1.0 / Math.Sqrt(Math.Max(lambda, 1e-12))) : 1f;
            for (int i = 0; i < n; i++) comps[j * n + i] = (float)vectors[j][i];
        }
        return new PcaTransform(n, comps, scale, whiten, total > 0 ? kept / total : 0);
    }

    /// <summary>
    /// Eigenvalues (descending) and eigenvectors of the sample's covariance (<paramref name="center"/>) or second
    /// moment, via MathNet's symmetric eigen-decomposition. Shared with <see cref="DistillTransform"/>.
    /// </summary>
    internal static (double[] Values, double[][] Vectors) Eigen(VectorMatrix data, bool center)
    {
        if ((long)data.Count * data.Dimension > int.MaxValue) data = data.Sample(int.MaxValue / data.Dimension, 1);
        int n = data.Dimension, count = data.Count;
        if (count < 2) throw new InvalidArgumentException("pca needs at least two training vectors");
        var mean = new double[n];
        if (center)
        {
            for (int r = 0; r < count; r++)
            {
                var row = data.Row(r);
                for (int i = 0; i < n; i++) mean[i] += row[i];
            }
            for (int i = 0; i < n; i++) mean[i] /= count;
        }
        // Column-major float copy, so each covariance entry is one SIMD dot product over the sample.
        var columns = new float[(long)n * count];
        for (int r = 0; r < count; r++)
        {
            var row = data.Row(r);
            for (int i = 0; i < n; i++) columns[(long)i * count + r] = (float)(row[i] - mean[i]);
        }
        var storage = new double[n * n];
        Parallel.For(0, n, EngineParallel.Options(), i =>
        {
            var ci = columns.AsSpan(i * count, count);
            for (int j = i; j < n; j++)
            {
                double v = DotProduct.Compute(ci, columns.AsSpan(j * count, count)) / (count - 1.0);
                storage[i * n + j] = v;
                storage[j * n + i] = v;
            }
        });
        var cov = Matrix<double>.Build.Dense(n, n, storage);
        var evd = cov.Evd(Symmetricity.Symmetric);
        var ev = evd.EigenValues.Select(c => c.Real).ToArray();
        var order = Enumerable.Range(0, n).OrderByDescending(i => ev[i]).ToArray();
        var values = order.Select(i => ev[i]).ToArray();
        var vectors = order.Select(i => evd.EigenVectors.Column(i).ToArray()).ToArray();
        return (values, vectors);
    }
}
