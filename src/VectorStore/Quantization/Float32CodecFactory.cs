using System.Runtime.InteropServices;
using VectorStore.Clustering;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>Registers <c>none</c>.</summary>
public sealed class Float32CodecFactory : IQuantizerFactory
{
    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["none"];

    /// <inheritdoc />
    public VectorCodec Train(CompressionStage stage, VectorMatrix sample, DistanceKind kind, TrainingContext context)
    {
        CheckShape(stage, sample.Dimension);
        return new Float32Codec(sample.Dimension);
    }

    /// <inheritdoc />
    public void CheckShape(CompressionStage stage, int dimension)
    {
        if (stage.Argument.Length != 0) throw new InvalidArgumentException($"'none' takes no argument, got '{stage}'");
    }

    /// <inheritdoc />
    public VectorCodec Read(string name, BinaryReader reader) => new Float32Codec(reader.ReadInt32());
}
