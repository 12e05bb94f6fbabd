using System.Globalization;
using VectorStore.Clustering;

namespace VectorStore.Quantization;

/// <summary>Registers <c>hash:D</c> and <c>hash:D,N</c> (hybrid with N exact heavy dimensions). Stateless, so thread-safe.</summary>
public sealed class HashTransformFactory : ITransformFactory
{
    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["hash"];

    /// <inheritdoc />
    public int CheckShape(CompressionStage stage, int inputDimension) =>
        ITransformFactory.ProjectedDimension(stage, inputDimension, mayGrow: true);

    /// <inheritdoc />
    public VectorTransform Fit(CompressionStage stage, CompressionSpec rest, VectorMatrix sample, DistanceKind kind, TrainingContext context)
    {
        var parts = stage.Argument.Split(',');
        if (parts.Length > 2) throw new InvalidArgumentException($"compression stage '{stage}': expected hash:D or hash:D,N");
        int d = new CompressionStage(stage.Name, parts[0]).IntArgument("the output dimension");
        int heavy = parts.Length == 2 ? new CompressionStage(stage.Name, parts[1]).IntArgument("the number of exact dimensions") : 0;
        if (heavy >= d || heavy > sample.Dimension)
            throw new InvalidArgumentException($"compression stage '{stage}': N={heavy} exact dimensions must be fewer than D={d} and at most {sample.Dimension}");
        int[] exact = [];
        if (heavy > 0)
        {
            var score = PruneTransform.VarianceScores(sample, DistanceKind.NegativeDot);
            exact = Enumerable.Range(0, sample.Dimension).OrderByDescending(i => score[i]).ThenBy(i => i).Take(heavy).ToArray();
        }
        return new HashTransform(sample.Dimension, d, unchecked((ulong)context.Seed * 0x9E3779B97F4A7C15UL + 1), exact);
    }

    /// <inheritdoc />
    public VectorTransform Read(string name, BinaryReader reader) => HashTransform.ReadParameters(reader);
}
