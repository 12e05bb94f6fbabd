using VectorStore.Quantization;

namespace VectorStore.Indexing;

/// <summary>A parsed index spec: <c>flat</c>, <c>ivf:NLIST</c>, <c>hnsw:M[,EFC]</c>.</summary>
/// <param name="Name">Registry name.</param>
/// <param name="Arguments">Comma-separated arguments after ':'.</param>
public sealed record IndexSpec(string Name, IReadOnlyList<string> Arguments)
{
    /// <summary>Parses <paramref name="text"/>.</summary>
    public static IndexSpec Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new InvalidArgumentException("index spec is empty");
        var t = text.Trim().ToLowerInvariant();
        int colon = t.IndexOf(':');
        return colon < 0
            ? new IndexSpec(t, [])
            : new IndexSpec(t[..colon], t[(colon + 1)..].Split(',', StringSplitOptions.TrimEntries));
    }

    /// <summary>Argument <paramref name="i"/> as a positive integer, or <paramref name="fallback"/> when absent.</summary>
    public int IntArgument(int i, string what, int? fallback = null)
    {
        if (i >= Arguments.Count)
            return fallback ?? throw new InvalidArgumentException($"index '{this}' needs {what}");
        if (!int.TryParse(Arguments[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int v) || v <= 0)
            throw new InvalidArgumentException($"index '{this}': {what} must be a positive integer, got '{Arguments[i]}'");
        return v;
    }

    /// <inheritdoc />
    public override string ToString() => Arguments.Count == 0 ? Name : $"{Name}:{string.Join(',', Arguments)}";
}
