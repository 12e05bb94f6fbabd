using System.Globalization;

namespace VectorStore.Quantization;

/// <summary>One stage of a compression spec: <c>name[:arg[,arg…]]</c>, e.g. <c>pq:96x4</c> or <c>pca:128</c>.</summary>
/// <param name="Name">The registry name, lower case (<c>sq8</c>, <c>pq</c>, <c>pca</c>, …).</param>
/// <param name="Argument">Everything after the first ':' (empty when absent).</param>
public sealed record CompressionStage(string Name, string Argument)
{
    /// <summary>The argument parsed as a positive integer, or an <see cref="InvalidArgumentException"/> naming the stage.</summary>
    public int IntArgument(string what)
    {
        if (!int.TryParse(Argument, NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v <= 0)
            throw new InvalidArgumentException($"compression stage '{this}': {what} must be a positive integer, got '{Argument}'");
        return v;
    }

    /// <inheritdoc />
    public override string ToString() => Argument.Length == 0 ? Name : $"{Name}:{Argument}";
}
