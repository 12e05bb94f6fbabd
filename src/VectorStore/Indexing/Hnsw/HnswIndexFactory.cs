using VectorStore.Clustering;
using VectorStore.Quantization;

namespace VectorStore.Indexing.Hnsw;

/// <summary>Registers <c>hnsw:M</c> and <c>hnsw:M,EFC</c>. Stateless and thread-safe.</summary>
public sealed class HnswIndexFactory : IIndexFactory
{
    /// <summary>Smallest M: one link per node cannot form a navigable graph.</summary>
    public const int MinM = 2;

    /// <summary>Largest M: a node's link count is stored in one byte.</summary>
    public const int MaxM = 255;

    /// <summary>
    /// Largest EFC. Construction cost grows linearly with it and usual settings are 40–500, so a larger value is far
    /// more likely a typo than tuning.
    /// </summary>
    public const int MaxEfConstruction = 4096;

    private const string Usage = "hnsw:M[,EFC]";

    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["hnsw"];

    /// <inheritdoc />
    public void Validate(IndexSpec spec) => Parse(spec);

    /// <summary>
    /// M (default 16) and EFC; an omitted EFC is <see cref="HnswIndex.DefaultEfConstruction"/>, raised to M when M is
    /// larger, because a beam narrower than the links it must fill is never what was asked for.
    /// </summary>
    private static (int M, int EfConstruction) Parse(IndexSpec spec)
    {
        spec.RequireArgumentCount(0, 2, Usage);
        int m = spec.IntArgument(0, "M (links per node)", MinM, MaxM, fallback: 16);
        int efc = spec.IntArgument(1, $"EFC (construction beam width, at least M={m})", m, MaxEfConstruction,
            fallback: Math.Max(HnswIndex.DefaultEfConstruction, m));
        return (m, efc);
    }

    /// <inheritdoc />
    public VectorIndex Create(IndexSpec spec, CompressionSpec compression, int dimension, DistanceKind kind, VectorMatrix sample, TrainingContext context)
    {
        var (m, efc) = Parse(spec);
        var codec = CodecRegistry.Train(compression, sample, kind, context);
        return new HnswIndex(codec, kind, m, efc, context.Seed, Math.Max(1024, sample.Count));
    }

    /// <inheritdoc />
    public VectorIndex Read(string name, BinaryReader reader) => HnswIndex.Read(reader);
}
