using VectorStore.Clustering;
using VectorStore.Quantization;

namespace VectorStore.Indexing.Hnsw;

/// <summary>Registers <c>hnsw:M</c> and <c>hnsw:M,EFC</c>. Stateless and thread-safe.</summary>
public sealed class HnswIndexFactory : IIndexFactory
{
    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["hnsw"];

    /// <inheritdoc />
    public VectorIndex Create(IndexSpec spec, CompressionSpec compression, int dimension, DistanceKind kind, VectorMatrix sample, TrainingContext context)
    {
        if (spec.Arguments.Count > 2) throw new InvalidArgumentException($"index '{spec}': expected hnsw:M or hnsw:M,EFC");
        int m = spec.IntArgument(0, "M (links per node)", 16);
        int efc = spec.IntArgument(1, "EFC (construction beam width)", HnswIndex.DefaultEfConstruction);
        if (m is < 2 or > 255) throw new InvalidArgumentException($"index '{spec}': M must be in 2..255");
        if (efc < m) throw new InvalidArgumentException($"index '{spec}': EFC must be at least M");
        var codec = CodecRegistry.Train(compression, sample, kind, context);
        return new HnswIndex(codec, kind, m, efc, context.Seed, Math.Max(1024, sample.Count));
    }

    /// <inheritdoc />
    public VectorIndex Read(string name, BinaryReader reader) => HnswIndex.Read(reader);
}
