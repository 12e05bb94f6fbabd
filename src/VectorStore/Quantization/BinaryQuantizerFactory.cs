using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using MathNet.Numerics.LinearAlgebra;
using VectorStore.Clustering;
using VectorStore.Distance;

namespace VectorStore.Quantization;

/// <summary>Registers <c>bin</c> (random rotation) and <c>bin:norot</c>. Stateless, so thread-safe.</summary>
public sealed class BinaryQuantizerFactory : IQuantizerFactory
{
    /// <inheritdoc />
    public IReadOnlyList<string> Names { get; } = ["bin"];

    /// <inheritdoc />
    public VectorCodec Train(CompressionStage stage, VectorMatrix sample, DistanceKind kind, TrainingContext context) =>
        BinaryQuantizer.Train(sample, Rotate(stage), context.Seed);

    /// <inheritdoc />
    public void CheckShape(CompressionStage stage, int dimension)
    {
        if (Rotate(stage) && dimension > 4_096)
            throw new InvalidArgumentException($"bin: a random rotation of {dimension} dimensions is too large; use bin:norot");
    }

    private static bool Rotate(CompressionStage stage) => stage.Argument switch
    {
        "" => true,
        "norot" => false,
        _ => throw new InvalidArgumentException($"bin takes no argument or 'norot', got '{stage.Argument}'"),
    };

    /// <inheritdoc />
    public VectorCodec Read(string name, BinaryReader reader) => BinaryQuantizer.ReadParameters(reader);
}
