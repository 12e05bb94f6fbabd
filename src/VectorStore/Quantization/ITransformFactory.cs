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
    /// Checks what must follow this stage (<paramref name="rest"/>, the remainder of the spec), for transforms that
    /// only work with one kind of quantizer; throws <see cref="InvalidArgumentException"/>. The default accepts anything.
    /// </summary>
    void CheckFollower(CompressionStage stage, CompressionSpec rest) { }

    /// <summary>
    /// The arguments of a projection written <c>name:D[,option]</c>: D an integer in 1..<paramref name="maxDimension"/>
    /// (the output dimension) and the option, one of <paramref name="options"/> or null when absent. Errors name the
    /// accepted form and range.
    /// </summary>
    static (int D, string? Option) ParseProjection(CompressionStage stage, int maxDimension, string limitName, string usage, params string[] options)
    {
        var parts = stage.Argument.Split(',');
        if (parts.Length > (options.Length == 0 ? 1 : 2) || (parts.Length == 2 && !options.Contains(parts[1])))
            throw new InvalidArgumentException($"compression stage '{stage}': expected {usage}");
        return (IntInRange(stage, parts[0], "D (the output dimension)", 1, maxDimension, limitName), parts.Length == 2 ? parts[1] : null);
    }

    /// <summary>
    /// <paramref name="text"/> as an integer in <paramref name="min"/>..<paramref name="max"/>; the error names the
    /// stage, the range and, when given, what bounds it (<paramref name="limitName"/>, e.g. "the input dimension").
    /// </summary>
    static int IntInRange(CompressionStage stage, string text, string what, int min, int max, string? limitName = null)
    {
        if (!int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int v)
            || v < min || v > max)
            throw new InvalidArgumentException(
                $"compression stage '{stage}': {what} must be an integer in {min}..{max}{(limitName is null ? "" : $" ({limitName})")}, got '{text}'");
        return v;
    }
}
