using System.Globalization;
using VectorStore.Clustering;

namespace VectorStore.Quantization;

/// <summary>
/// Registers <c>pq</c>: <c>pq:M</c> (8-bit, <see cref="PqCodec"/>) and <c>pq:Mx4</c> (4-bit fast-scan,
/// <see cref="PqFastScanCodec"/>). Stateless and thread-safe.
/// </summary>
public sealed class PqFactory : IQuantizerFactory
{
    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["pq"];

    /// <summary>k-means iterations per sub-space. Default 25.</summary>
    public const int TrainingIterations = 25;

    /// <summary>Parses the argument of <c>pq:M</c> / <c>pq:Mx4</c> (and <c>pq:Mx8</c>) into M and bits.</summary>
    public static (int M, int Bits) ParseArgument(CompressionStage stage)
    {
        string a = stage.Argument;
        int x = a.IndexOf('x');
        string mText = x < 0 ? a : a[..x];
        string bitsText = x < 0 ? "8" : a[(x + 1)..];
        if (!int.TryParse(mText, NumberStyles.None, CultureInfo.InvariantCulture, out int m) || m <= 0 ||
            !int.TryParse(bitsText, NumberStyles.None, CultureInfo.InvariantCulture, out int bits) || bits is not (4 or 8))
            throw new InvalidArgumentException($"compression stage '{stage}': expected pq:M (8-bit) or pq:Mx4 (4-bit fast-scan) with M an integer in 1..dimension");
        return (m, bits);
    }

    /// <summary>Wraps a codebook in the codec for its bit width.</summary>
    public static VectorCodec Create(PqCodebook codebook) =>
        codebook.Bits == 4 ? new PqFastScanCodec(codebook) : new PqCodec(codebook);

    /// <inheritdoc />
    public void CheckShape(CompressionStage stage, int dimension)
    {
        var (m, bits) = ParseArgument(stage);
        PqCodebook.ValidateShape(dimension, m, bits);
    }

    /// <inheritdoc />
    public VectorCodec Train(CompressionStage stage, VectorMatrix sample, DistanceKind kind, TrainingContext context)
    {
        var (m, bits) = ParseArgument(stage);
        PqCodebook.ValidateShape(sample.Dimension, m, bits);
        return Create(PqCodebook.Train(sample, m, bits, context, TrainingIterations, stage: stage.ToString()));
    }

    /// <inheritdoc />
    public VectorCodec Read(string name, BinaryReader reader) => Create(PqCodebook.Read(reader));
}
