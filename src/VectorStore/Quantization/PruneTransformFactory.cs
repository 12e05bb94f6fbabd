using System.Globalization;
using VectorStore.Clustering;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>Registers <c>prune:D</c> (ranking sensitivity) and <c>prune:D,var</c> (variance contribution). Stateless, so thread-safe.</summary>
public sealed class PruneTransformFactory : ITransformFactory
{
    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["prune"];

    /// <inheritdoc />
    public int CheckShape(CompressionStage stage, int inputDimension) => Parse(stage, inputDimension).D;

    private static (int D, bool ByVariance) Parse(CompressionStage stage, int inputDimension)
    {
        var (d, option) = ITransformFactory.ParseProjection(stage, inputDimension, "the input dimension", "prune:D or prune:D,var", "var");
        return (d, option == "var");
    }

    /// <inheritdoc />
    public VectorTransform Fit(CompressionStage stage, CompressionSpec rest, VectorMatrix sample, DistanceKind kind, TrainingContext context)
    {
        var (d, byVar) = Parse(stage, sample.Dimension);
        return PruneTransform.Fit(sample, d, kind, byVar, context.Seed, context.Threads);
    }

    /// <inheritdoc />
    public VectorTransform Read(string name, BinaryReader reader) => PruneTransform.ReadParameters(reader);
}
