using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using VectorStore.Clustering;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>Registers <c>distill:D</c>. Stateless, so thread-safe.</summary>
public sealed class DistillTransformFactory : ITransformFactory
{
    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["distill"];

    /// <inheritdoc />
    public int CheckShape(CompressionStage stage, int inputDimension) =>
        ITransformFactory.ParseProjection(stage, inputDimension, "the input dimension", "distill:D").D;

    /// <inheritdoc />
    public VectorTransform Fit(CompressionStage stage, CompressionSpec rest, VectorMatrix sample, DistanceKind kind, TrainingContext context)
    {
        int d = CheckShape(stage, sample.Dimension);
        return DistillTransform.Fit(sample, d, kind, null, context.Seed, context.Threads, context.Progress);
    }

    /// <inheritdoc />
    public VectorTransform Read(string name, BinaryReader reader) => DistillTransform.ReadParameters(reader);
}
