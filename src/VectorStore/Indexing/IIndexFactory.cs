using VectorStore.Clustering;
using VectorStore.Quantization;

namespace VectorStore.Indexing;

/// <summary>Creates and reads one kind of index; listed in <see cref="IndexRegistry"/>.</summary>
public interface IIndexFactory
{
    /// <summary>Registry names (e.g. <c>hnsw</c>).</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>
    /// Trains whatever the index needs (codec, coarse centroids) on <paramref name="sample"/> and returns an empty index.
    /// </summary>
    VectorIndex Create(IndexSpec spec, CompressionSpec compression, int dimension, DistanceKind kind, VectorMatrix sample, TrainingContext context);

    /// <summary>Reads an index written by <see cref="VectorIndex.Write"/>.</summary>
    VectorIndex Read(string name, BinaryReader reader);

    /// <summary>
    /// Checks the spec's arguments without training, so a bad spec fails when the collection is created rather than
    /// when it first trains; throws <see cref="InvalidArgumentException"/>. The default accepts any arguments.
    /// </summary>
    void Validate(IndexSpec spec) { }

    /// <summary>
    /// The fewest training vectors the index trains on as <paramref name="spec"/> asks (an IVF index: one per list).
    /// With fewer it trains a smaller version of itself (fewer lists), which a collection created or a generation
    /// built on request refuses instead. The default is 1.
    /// </summary>
    int TrainingVectorsNeeded(IndexSpec spec) => 1;
}
