using System.Globalization;
using VectorStore.Clustering;

namespace VectorStore.Quantization;

/// <summary>
/// Lets <c>hash:D</c> stand alone as a compression: the hashed vector stored as float32 (the same as
/// <c>hash:D+none</c>, which is what the codec reports as its spec). Stateless, so thread-safe.
/// </summary>
public sealed class HashQuantizerFactory : IQuantizerFactory
{
    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["hash"];

    /// <inheritdoc />
    public VectorCodec Train(CompressionStage stage, VectorMatrix sample, DistanceKind kind, TrainingContext context)
    {
        var transform = new HashTransformFactory().Fit(stage, CompressionSpec.Parse("none"), sample, kind, context);
        return new TransformedCodec(transform, new Float32Codec(transform.OutputDimension));
    }

    /// <inheritdoc />
    public void CheckShape(CompressionStage stage, int dimension) => HashTransformFactory.Parse(stage, dimension);

    /// <inheritdoc />
    public VectorCodec Read(string name, BinaryReader reader) =>
        throw new InvalidDataException("a stand-alone hash codec is stored as the transform 'hash' followed by 'none'");
}
