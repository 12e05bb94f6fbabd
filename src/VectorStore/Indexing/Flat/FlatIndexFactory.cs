using VectorStore.Clustering;
using VectorStore.Quantization;

namespace VectorStore.Indexing.Flat;

/// <summary>Registers <c>flat</c>.</summary>
public sealed class FlatIndexFactory : IIndexFactory
{
    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["flat"];

    /// <inheritdoc />
    public void Validate(IndexSpec spec) => spec.RequireArgumentCount(0, 0, "flat (no arguments)");

    /// <inheritdoc />
    public VectorIndex Create(IndexSpec spec, CompressionSpec compression, int dimension, DistanceKind kind, VectorMatrix sample, TrainingContext context)
    {
        Validate(spec);
        return new FlatIndex(CodecRegistry.Train(compression, sample, kind, context), kind);
    }

    /// <inheritdoc />
    public VectorIndex Read(string name, BinaryReader reader) => FlatIndex.Read(reader);
}
