using System.Globalization;
using VectorStore.Clustering;

namespace VectorStore.Quantization;

/// <summary>Registers <c>rq:B</c> (B = 1 … 8 bits per dimension). Stateless, so thread-safe.</summary>
public sealed class RotationQuantizerFactory : IQuantizerFactory
{
    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["rq"];

    /// <inheritdoc />
    public VectorCodec Train(CompressionStage stage, VectorMatrix sample, DistanceKind kind, TrainingContext context) =>
        RotationQuantizer.Train(sample, BitsOf(stage), context.Seed);

    /// <inheritdoc />
    public void CheckShape(CompressionStage stage, int dimension)
    {
        int bits = BitsOf(stage);
        if (dimension > RotationQuantizer.MaxDimension)
            throw new InvalidArgumentException($"rq: a random rotation of {dimension} dimensions is too large; compose with pca:D+rq:{bits}");
    }

    private static int BitsOf(CompressionStage stage)
    {
        if (!int.TryParse(stage.Argument, NumberStyles.None, CultureInfo.InvariantCulture, out int bits) || bits is < 1 or > 8)
            throw new InvalidArgumentException($"rq takes the bits per dimension, 1 to 8 (e.g. rq:4), got '{stage}'");
        return bits;
    }

    /// <inheritdoc />
    public VectorCodec Read(string name, BinaryReader reader) => RotationQuantizer.ReadParameters(reader);
}
