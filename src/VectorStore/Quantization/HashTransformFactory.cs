using System.Globalization;
using VectorStore.Clustering;

namespace VectorStore.Quantization;

/// <summary>Registers <c>hash:D</c> and <c>hash:D,N</c> (hybrid with N exact heavy dimensions). Stateless, so thread-safe.</summary>
public sealed class HashTransformFactory : ITransformFactory
{
    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["hash"];

    /// <inheritdoc />
    public int CheckShape(CompressionStage stage, int inputDimension) => Parse(stage, inputDimension).D;

    /// <summary>Largest D: the largest dimension a collection may have.</summary>
    public const int MaxOutputDimension = 65_536;

    /// <summary>D (any size up to <see cref="MaxOutputDimension"/>: hashing may grow the dimension) and N, 0 when absent.</summary>
    internal static (int D, int Heavy) Parse(CompressionStage stage, int inputDimension)
    {
        var parts = stage.Argument.Split(',');
        if (parts.Length > 2) throw new InvalidArgumentException($"compression stage '{stage}': expected hash:D or hash:D,N");
        int d = ITransformFactory.IntInRange(stage, parts[0], "D (the output dimension)", 1, MaxOutputDimension);
        int heavy = parts.Length < 2 ? 0
            : ITransformFactory.IntInRange(stage, parts[1], "N (exact dimensions, fewer than D and at most the input dimension)", 1, Math.Min(d - 1, inputDimension));
        return (d, heavy);
    }

    /// <inheritdoc />
    public VectorTransform Fit(CompressionStage stage, CompressionSpec rest, VectorMatrix sample, DistanceKind kind, TrainingContext context)
    {
        var (d, heavy) = Parse(stage, sample.Dimension);
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
