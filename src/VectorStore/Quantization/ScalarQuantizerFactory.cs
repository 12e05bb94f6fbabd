using System.Buffers.Binary;
using System.Runtime.InteropServices;
using VectorStore.Clustering;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>Registers <c>sq8</c> (per-dimension ranges) and <c>sq8:pv</c> (plus a per-vector scale).</summary>
public sealed class ScalarQuantizerFactory : IQuantizerFactory
{
    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["sq8"];

    /// <inheritdoc />
    public VectorCodec Train(CompressionStage stage, VectorMatrix sample, DistanceKind kind, TrainingContext context)
    {
        return ScalarQuantizer.Train(sample, new ScalarQuantizerOptions { PerVectorScale = PerVectorScale(stage) });
    }

    /// <inheritdoc />
    public void CheckShape(CompressionStage stage, int dimension) => PerVectorScale(stage);

    private static bool PerVectorScale(CompressionStage stage) => stage.Argument switch
    {
        "" => false,
        "pv" => true,
        _ => throw new InvalidArgumentException($"sq8 takes no argument or 'pv' (per-vector scale), got '{stage.Argument}'"),
    };

    /// <inheritdoc />
    public VectorCodec Read(string name, BinaryReader reader) => ScalarQuantizer.ReadParameters(reader);
}
