using VectorStore.Collections;

namespace VectorStore.Cluster;

/// <summary>
/// Thrown by the synchronous search methods, whose return type (<see cref="SearchHit"/>[]) cannot say "partial":
/// some shards did not answer in time. Carries what the others returned; <c>SearchAsync</c> returns the same as a
/// <see cref="ClusterSearchResult"/> instead of throwing.
/// </summary>
public sealed class PartialResultException : UnavailableException
{
    /// <summary>For <paramref name="result"/>.</summary>
    public PartialResultException(ClusterSearchResult result)
        : base($"search is partial: shard(s) {string.Join(", ", result.MissingShards)} did not answer in time")
    {
        Result = result;
    }

    /// <summary>The partial result.</summary>
    public ClusterSearchResult Result { get; }
}
