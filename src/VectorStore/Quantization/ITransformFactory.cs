using VectorStore.Clustering;

namespace VectorStore.Quantization;

/// <summary>
/// Fits and reads one kind of transform (a non-final stage such as <c>pca:128</c>). Listed in <see cref="CodecRegistry"/> like
/// <see cref="IQuantizerFactory"/>.
/// </summary>
public interface ITransformFactory
{
    /// <summary>Registry names this factory answers to (e.g. <c>pca</c>).</summary>
    IReadOnlyList<string> Names { get; }

    /// <summary>
    /// Fits the transform for <paramref name="stage"/>; <paramref name="rest"/> is the remainder of the spec, for
    /// transforms trained jointly with what follows (OPQ).
    /// </summary>
    VectorTransform Fit(CompressionStage stage, CompressionSpec rest, VectorMatrix sample, DistanceKind kind, TrainingContext context);

    /// <summary>Reads parameters written by <see cref="VectorTransform.WriteParameters"/>.</summary>
    VectorTransform Read(string name, BinaryReader reader);

    /// <summary>
    /// Checks <paramref name="stage"/> against its input dimension without data and returns its output dimension.
    /// Throws <see cref="InvalidArgumentException"/>; the default keeps the dimension.
    /// </summary>
    int CheckShape(CompressionStage stage, int inputDimension) => inputDimension;

    /// <summary>
    /// The shape rule of projections written <c>name:D[,option]</c>: D is a positive integer no larger than the input
    /// (unless <paramref name="mayGrow"/>), and it is the output dimension.
    /// </summary>
    static int ProjectedDimension(CompressionStage stage, int inputDimension, bool mayGrow = false)
    {
        int d = new CompressionStage(stage.Name, stage.Argument.Split(',')[0]).IntArgument("the output dimension");
        if (!mayGrow && d > inputDimension)
            throw new InvalidArgumentException($"compression stage '{stage}': D={d} exceeds the input dimension {inputDimension}");
        return d;
    }
}
