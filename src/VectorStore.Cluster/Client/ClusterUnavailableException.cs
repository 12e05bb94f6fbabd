namespace VectorStore.Cluster;

/// <summary>
/// The cluster could not do what was asked in time: a shard had no live primary, fewer than R copies could apply a
/// write, or the layout kept changing. Nothing was acknowledged; retrying the same call is safe (upserts and deletes
/// are idempotent).
/// </summary>
public sealed class ClusterUnavailableException : UnavailableException
{
    /// <summary>With a message saying what failed.</summary>
    public ClusterUnavailableException(string message) : base(message) { }
}
