using VectorStore.Clustering;

namespace VectorStore.Quantization;

/// <summary>
/// Trains and reads one kind of quantizer (the last stage of a spec). Implementations are listed in
/// <see cref="CodecRegistry"/>, so a new kind is a new file plus one line there.
/// </summary>
public interface IQuantizerFactory
{
    /// <summary>Registry names this factory answers to (e.g. <c>pq</c>).</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>Trains a codec for <paramref name="stage"/> on <paramref name="sample"/>.</summary>
    VectorCodec Train(CompressionStage stage, VectorMatrix sample, DistanceKind kind, TrainingContext context);

    /// <summary>Reads parameters written by <see cref="VectorCodec.WriteParameters"/>.</summary>
    VectorCodec Read(string name, BinaryReader reader);

    /// <summary>
    /// Checks <paramref name="stage"/> against the dimension it will see, without data, so a collection whose spec
    /// can never train (<c>pq:129</c> on 128 dimensions) is refused when it is created rather than at its first
    /// training. Throws <see cref="InvalidArgumentException"/>; the default accepts everything.
    /// </summary>
    void CheckShape(CompressionStage stage, int dimension) { }
}
