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

    /// <summary>
    /// Argument <paramref name="i"/> as an integer in <paramref name="min"/>..<paramref name="max"/>, or
    /// <paramref name="fallback"/> when absent; the error names the accepted range.
    /// </summary>
    public int IntArgument(int i, string what, int min, int max, int? fallback = null)
    {
        if (i >= Arguments.Count)
            return fallback ?? throw new InvalidArgumentException($"index '{this}' needs {what} (an integer in {min}..{max})");
        if (!int.TryParse(Arguments[i], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out int v)
            || v < min || v > max)
            throw new InvalidArgumentException($"index '{this}': {what} must be an integer in {min}..{max}, got '{Arguments[i]}'");
        return v;
    }

    /// <summary>Refuses fewer than <paramref name="min"/> or more than <paramref name="max"/> arguments, naming the accepted form.</summary>
    public void RequireArgumentCount(int min, int max, string usage)
    {
        if (Arguments.Count < min || Arguments.Count > max)
            throw new InvalidArgumentException(Arguments.Count == 0
                ? $"index '{this}' needs arguments: expected {usage}"
                : $"index '{this}': expected {usage}, got {Arguments.Count} argument{(Arguments.Count == 1 ? "" : "s")}");
    }

    /// <inheritdoc />
    public override string ToString() => Arguments.Count == 0 ? Name : $"{Name}:{string.Join(',', Arguments)}";
}
