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
    public int CheckShape(CompressionStage stage, int inputDimension) =>
        ITransformFactory.ProjectedDimension(stage, inputDimension, mayGrow: false);

    /// <inheritdoc />
    public VectorTransform Fit(CompressionStage stage, CompressionSpec rest, VectorMatrix sample, DistanceKind kind, TrainingContext context)
    {
        var parts = stage.Argument.Split(',');
        bool whiten = parts.Length == 2 && parts[1] == "w";
        if (parts.Length > 2 || (parts.Length == 2 && !whiten))
            throw new InvalidArgumentException($"compression stage '{stage}': expected pca:D or pca:D,w");
        int d = new CompressionStage(stage.Name, parts[0]).IntArgument("the output dimension");
        if (d > sample.Dimension) throw new InvalidArgumentException($"compression stage '{stage}': D={d} exceeds the input dimension {sample.Dimension}");
        context.Progress?.Report(("pca", 0));
        var t = PcaTransform.Fit(sample, d, kind, whiten, seed: context.Seed);
        context.Progress?.Report(("pca", 1));
        return t;
    }

    /// <inheritdoc />
    public VectorTransform Read(string name, BinaryReader reader) => PcaTransform.ReadParameters(reader);
}
