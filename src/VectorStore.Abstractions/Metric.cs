namespace VectorStore;

/// <summary>How a collection compares vectors.</summary>
public enum Metric
{
    /// <summary>Squared Euclidean distance; lower scores are better.</summary>
    L2 = 0,

    /// <summary>Inner product; higher scores are better.</summary>
    InnerProduct = 1,

    /// <summary>
    /// Cosine similarity; vectors and queries are normalized to unit length, then compared by inner product.
    /// Higher scores are better.
    /// </summary>
    Cosine = 2,
}
