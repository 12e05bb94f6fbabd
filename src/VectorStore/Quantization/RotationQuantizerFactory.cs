using System.Globalization;
using VectorStore.Clustering;

namespace VectorStore.Quantization;

/// <summary>
/// Registers <c>rq:B</c> and <c>rq:B,C</c> (B = 1 … 8 bits per dimension, C centroids; without C,
/// <see cref="RotationQuantizer.DefaultCentroids"/> of the training sample). Stateless, so thread-safe.
/// </summary>
public sealed class RotationQuantizerFactory : IQuantizerFactory
{
    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["rq"];

    /// <inheritdoc />
    public VectorCodec Train(CompressionStage stage, VectorMatrix sample, DistanceKind kind, TrainingContext context)
    {
        var (bits, centroids) = Parse(stage);
        return RotationQuantizer.Train(sample, bits, context.Seed, centroids ?? RotationQuantizer.DefaultCentroids(sample.Count), context);
    }

    /// <inheritdoc />
    public void CheckShape(CompressionStage stage, int dimension)
    {
        int bits = Parse(stage).Bits;
        if (dimension > RotationQuantizer.MaxDimension)
            throw new InvalidArgumentException($"rq: a random rotation of {dimension} dimensions is too large; compose with pca:D+rq:{bits}");
    }

    private static (int Bits, int? Centroids) Parse(CompressionStage stage)
    {
        var parts = stage.Argument.Split(',');
        if (parts.Length > 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int bits) || bits is < 1 or > 8)
            throw new InvalidArgumentException($"rq takes the bits per dimension, 1 to 8, and optionally a centroid count (e.g. rq:4 or rq:4,64), got '{stage}'");
        if (parts.Length == 1) return (bits, null);
        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int c) || c is < 1 or > RotationQuantizer.MaxCentroids)
            throw new InvalidArgumentException($"rq: the centroid count must be 1 to {RotationQuantizer.MaxCentroids}, got '{stage}'");
        return (bits, c);
    }

    /// <inheritdoc />
    public VectorCodec Read(string name, BinaryReader reader) => RotationQuantizer.ReadParameters(reader);
}
