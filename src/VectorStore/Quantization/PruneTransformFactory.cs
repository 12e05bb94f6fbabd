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
    public int CheckShape(CompressionStage stage, int inputDimension) =>
        ITransformFactory.ProjectedDimension(stage, inputDimension, mayGrow: false);

    /// <inheritdoc />
    public VectorTransform Fit(CompressionStage stage, CompressionSpec rest, VectorMatrix sample, DistanceKind kind, TrainingContext context)
    {
        var parts = stage.Argument.Split(',');
        bool byVar = parts.Length == 2 && parts[1] == "var";
        if (parts.Length > 2 || (parts.Length == 2 && !byVar))
            throw new InvalidArgumentException($"compression stage '{stage}': expected prune:D or prune:D,var");
        int d = new CompressionStage(stage.Name, parts[0]).IntArgument("the number of kept dimensions");
        if (d > sample.Dimension) throw new InvalidArgumentException($"compression stage '{stage}': D={d} exceeds the input dimension {sample.Dimension}");
        return PruneTransform.Fit(sample, d, kind, byVar, context.Seed, context.Threads);
    }

    /// <inheritdoc />
    public VectorTransform Read(string name, BinaryReader reader) => PruneTransform.ReadParameters(reader);
}
