namespace VectorStore;

/// <summary>Conversions between the user-facing <see cref="Metric"/> and the internal <see cref="DistanceKind"/>.</summary>
public static class MetricExtensions
{
    /// <summary>The internal distance used for <paramref name="metric"/>.</summary>
    public static DistanceKind ToDistanceKind(this Metric metric) =>
        metric == Metric.L2 ? DistanceKind.L2 : DistanceKind.NegativeDot;

    /// <summary>Turns an internal distance into the score reported to users (similarity for ip/cosine).</summary>
    public static float ToScore(this Metric metric, float distance) =>
        metric == Metric.L2 ? distance : -distance;

    /// <summary>Parses <c>l2</c>, <c>ip</c> or <c>cosine</c> (case-insensitive).</summary>
    public static Metric Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "l2" or "euclidean" => Metric.L2,
        "ip" or "dot" or "inner_product" => Metric.InnerProduct,
        "cos" or "cosine" => Metric.Cosine,
        _ => throw new InvalidArgumentException($"unknown metric '{text}' (expected l2, ip or cosine)"),
    };

    /// <summary>The short name used in specs and JSON: <c>l2</c>, <c>ip</c>, <c>cosine</c>.</summary>
    public static string ToSpec(this Metric metric) => metric switch
    {
        Metric.L2 => "l2",
        Metric.InnerProduct => "ip",
        _ => "cosine",
    };
}
