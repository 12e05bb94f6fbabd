using VectorStore.Clustering;
using VectorStore.Quantization;

namespace VectorStore.Indexing.Flat;

/// <summary>Registers <c>flat</c>.</summary>
public sealed class FlatIndexFactory : IIndexFactory
{
    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["flat"];

    /// <inheritdoc />
    public VectorIndex Create(IndexSpec spec, CompressionSpec compression, int dimension, DistanceKind kind, VectorMatrix sample, TrainingContext context)
    {
        if (spec.Arguments.Count != 0) throw new InvalidArgumentException("'flat' takes no argument");
        return new FlatIndex(CodecRegistry.Train(compression, sample, kind, context), kind);
    }

    /// <inheritdoc />
    public VectorIndex Read(string name, BinaryReader reader) => FlatIndex.Read(reader);
}
