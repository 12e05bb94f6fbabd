using System.Globalization;

namespace VectorStore.Quantization;

/// <summary>
/// A parsed compression spec: zero or more transforms joined by '+', ending in one quantizer,
/// e.g. <c>none</c>, <c>sq8</c>, <c>pq:48</c>, <c>opq+pq:96x4</c>, <c>pca:128+sq8</c>.
/// </summary>
public sealed class CompressionSpec
{
    private CompressionSpec(IReadOnlyList<CompressionStage> stages) => Stages = stages;

    /// <summary>The stages in application order; the last is the quantizer.</summary>
    public IReadOnlyList<CompressionStage> Stages { get; }

    /// <summary>The final (quantizer) stage.</summary>
    public CompressionStage Quantizer => Stages[^1];

    /// <summary>The spec after the first stage (used by transforms that train jointly with what follows, like OPQ).</summary>
    public CompressionSpec Rest => new(Stages.Skip(1).ToArray());

    /// <summary>Parses <paramref name="text"/>; stage names are checked later, by <see cref="CodecRegistry"/>.</summary>
    public static CompressionSpec Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new InvalidArgumentException("compression spec is empty");
        var stages = new List<CompressionStage>();
        foreach (var raw in text.Trim().ToLowerInvariant().Split('+'))
        {
            var part = raw.Trim();
            if (part.Length == 0) throw new InvalidArgumentException($"compression spec '{text}' has an empty stage");
            int colon = part.IndexOf(':');
            stages.Add(colon < 0 ? new CompressionStage(part, "") : new CompressionStage(part[..colon], part[(colon + 1)..]));
        }
        return new CompressionSpec(stages);
    }

    /// <inheritdoc />
    public override string ToString() => string.Join('+', Stages);
}
