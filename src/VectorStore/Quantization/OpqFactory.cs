using MathNet.Numerics.LinearAlgebra;
using VectorStore.Clustering;

namespace VectorStore.Quantization;

/// <summary>
/// Registers the <c>opq</c> transform. <see cref="Fit"/> trains the rotation jointly with the product quantizer
/// that follows (<c>pq:M</c> or <c>pq:Mx4</c>): starting from the identity it alternates (1) training PQ codebooks on
/// the rotated sample (warm-started after the first round) and (2) the orthogonal Procrustes step, R = V·Uᵀ from the
/// SVD U·S·Vᵀ of Xᵀ·Y (X the sample, Y its PQ reconstruction), which minimises ‖X·Rᵀ − Y‖ over rotations. The SVD is
/// MathNet.Numerics'. The final codebooks are re-trained by the registry on the rotated full sample. Stateless and
/// thread-safe.
/// </summary>
public sealed class OpqFactory : ITransformFactory
{
    /// <summary>Alternation rounds. Default 8.</summary>
    public const int Rounds = 8;

    /// <summary>Most sample vectors used to learn the rotation. Default 20,000.</summary>
    public const int MaxTrainingVectors = 20_000;

    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["opq"];

    /// <inheritdoc />
    public int CheckShape(CompressionStage stage, int inputDimension)
    {
        if (stage.Argument.Length != 0) throw new InvalidArgumentException($"'opq' takes no argument, got '{stage}'");
        return inputDimension;
    }

    /// <inheritdoc />
    public void CheckFollower(CompressionStage stage, CompressionSpec rest)
    {
        if (rest.Stages.Count != 1 || rest.Quantizer.Name != "pq")
            throw new InvalidArgumentException($"opq must be followed directly by pq:M or pq:Mx4, got 'opq+{rest}'");
    }

    /// <inheritdoc />
    public VectorTransform Fit(CompressionStage stage, CompressionSpec rest, VectorMatrix sample, DistanceKind kind, TrainingContext context)
    {
        CheckShape(stage, sample.Dimension);
        CheckFollower(stage, rest);
        var (m, bits) = PqFactory.ParseArgument(rest.Quantizer);
        int d = sample.Dimension;
        PqCodebook.ValidateShape(d, m, bits);
        var x = sample.Sample(MaxTrainingVectors, context.Seed);
        var rotation = OpqTransform.Identity(d);
        PqCodebook? codebook = null;
        for (int round = 0; round < Rounds; round++)
        {
            var rotated = rotation.ApplyBatch(x);
            var ctx = new TrainingContext { Seed = context.Seed, Threads = context.Threads, Warn = round == 0 ? context.Warn : null };
            codebook = PqCodebook.Train(rotated, m, bits, ctx, iterations: round == 0 ? 10 : 4, warmStart: codebook, stage: "opq");
            var y = Reconstruct(codebook, rotated, context);
            rotation = Procrustes(x, y, context);
            context.Progress?.Report(("opq", (round + 1.0) / Rounds));
        }
        return rotation;
    }

    private static VectorMatrix Reconstruct(PqCodebook codebook, VectorMatrix data, TrainingContext context)
    {
        var y = new VectorMatrix(data.Count, data.Dimension);
        Parallel.For(0, data.Count, context.ParallelOptions, () => new byte[codebook.SubQuantizers], (i, _, idx) =>
        {
            codebook.Assign(data.Row(i), idx);
            codebook.Reconstruct(idx, y[i]);
            return idx;
        }, _ => { });
        return y;
    }

    /// <summary>The rotation R maximising Σ yᵢᵀ·R·xᵢ: with Xᵀ·Y = U·S·Vᵀ, R = V·Uᵀ.</summary>
    internal static OpqTransform Procrustes(VectorMatrix x, VectorMatrix y, TrainingContext context)
    {
        int d = x.Dimension, n = x.Count;
        // Xᵀ·Y by rows of the result, each row owned by one task: deterministic on any number of threads.
        var a = new float[d * d];
        const int RowsPerTask = 8;
        Parallel.For(0, (d + RowsPerTask - 1) / RowsPerTask, context.ParallelOptions, t =>
        {
            int r0 = t * RowsPerTask, r1 = Math.Min(d, r0 + RowsPerTask);
            for (int s = 0; s < n; s++)
            {
                var xs = x.Row(s);
                var ys = y.Row(s);
                for (int r = r0; r < r1; r++) OpqTransform.Axpy(xs[r], ys, a.AsSpan(r * d, d));
            }
        });
        var matrix = Matrix<double>.Build.Dense(d, d, (i, j) => a[i * d + j]);
        var svd = matrix.Svd(computeVectors: true);
        // R = V·Uᵀ = (U·Vᵀ)ᵀ.
        var r = (svd.U * svd.VT).Transpose();
        var rotation = new float[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) rotation[i * d + j] = (float)r[i, j];
        return new OpqTransform(d, rotation);
    }

    /// <inheritdoc />
    public VectorTransform Read(string name, BinaryReader reader) => OpqTransform.ReadParameters(reader);
}
