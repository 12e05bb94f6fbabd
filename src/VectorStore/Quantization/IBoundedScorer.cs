namespace VectorStore.Quantization;

/// <summary>
/// A scorer whose estimates come with a per-candidate error bound, so a later stage can tell which candidates an
/// exact re-score could still move across a threshold and which it cannot. Not thread-safe, like every scorer.
/// </summary>
public interface IBoundedScorer
{
    /// <summary>
    /// The estimated distance from the current query to <paramref name="code"/> (the same value as
    /// <see cref="CodeScorer.Distance"/>), and in <paramref name="bound"/> a half-width such that the exact distance lies
    /// in [estimate − bound, estimate + bound] with high probability (the implementation documents how high).
    /// </summary>
    float DistanceWithBound(ReadOnlySpan<byte> code, out float bound);
}
