namespace VectorStore;

/// <summary>The distance the kernels and indexes compute internally: always "lower is better".</summary>
public enum DistanceKind
{
    /// <summary>Squared L2 distance.</summary>
    L2 = 0,

    /// <summary>Negated inner product, so that lower is better like L2.</summary>
    NegativeDot = 1,
}
