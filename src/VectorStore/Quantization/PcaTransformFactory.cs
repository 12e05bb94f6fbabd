using System.Globalization;
using MathNet.Numerics.LinearAlgebra;
using VectorStore.Clustering;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>Registers <c>pca:D</c> and <c>pca:D,w</c> (whitened). Stateless, so thread-safe.</summary>
public sealed class PcaTransformFactory : ITransformFactory
{
    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["pca"];

    /// <inheritdoc />
    public int CheckShape(CompressionStage stage, int inputDimension) => Parse(stage, inputDimension).D;

    private static (int D, bool Whiten) Parse(CompressionStage stage, int inputDimension)
    {
        var (d, option) = ITransformFactory.ParseProjection(stage, inputDimension, "the input dimension", "pca:D or pca:D,w", "w");
        return (d, option == "w");
    }

    /// <inheritdoc />
    public VectorTransform Fit(CompressionStage stage, CompressionSpec rest, VectorMatrix sample, DistanceKind kind, TrainingContext context)
    {
        var (d, whiten) = Parse(stage, sample.Dimension);
        context.Progress?.Report(("pca", 0));
        var t = PcaTransform.Fit(sample, d, kind, whiten, seed: context.Seed);
        context.Progress?.Report(("pca", 1));
        return t;
    }

    /// <inheritdoc />
    public VectorTransform Read(string name, BinaryReader reader) => PcaTransform.ReadParameters(reader);
}
