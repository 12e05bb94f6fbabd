namespace VectorStore.Cluster;

/// <summary>
/// Calls to the coordinating grains (the catalog, a collection's layout) whose Orleans failure — the grain's silo just
/// died and membership has not moved its activation yet, or the call timed out — is the cluster's unavailability
/// (<see cref="ClusterUnavailableException"/>: the protocol's <c>Unavailable</c>, which clients retry), not an internal
/// error. Errors the grain's own code threw (a refusal, a missing collection) pass through unchanged. Thread-safe
/// (stateless).
/// </summary>
internal static class GrainCalls
{
    /// <summary>
    /// Runs <paramref name="call"/>; an Orleans failure becomes a <see cref="ClusterUnavailableException"/> saying
    /// <paramref name="what"/> failed and, for a change (<paramref name="mayHaveApplied"/>), that it may have taken
    /// effect: a promotion, a declared generation or a created collection must be checked before it is retried.
    /// </summary>
    public static async Task<T> RunAsync<T>(Func<Task<T>> call, string what, bool mayHaveApplied = false)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (IsClusterFailure(e))
        {
            throw Unavailable(e, what, mayHaveApplied);
        }
    }

    /// <inheritdoc cref="RunAsync{T}"/>
    public static async Task RunAsync(Func<Task> call, string what, bool mayHaveApplied = false)
    {
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (Exception e) when (IsClusterFailure(e))
        {
            throw Unavailable(e, what, mayHaveApplied);
        }
    }

    /// <summary>Whether <paramref name="e"/> is Orleans failing to deliver or answer a call (not the grain refusing it).</summary>
    internal static bool IsClusterFailure(Exception e) => e is Orleans.Runtime.OrleansException or TimeoutException;

    private static ClusterUnavailableException Unavailable(Exception e, string what, bool mayHaveApplied) => new(
        $"{what} failed: the cluster did not answer ({e.GetType().Name}: {e.Message}); "
        + (mayHaveApplied ? "it may have taken effect before the failure: check before retrying" : "retry once membership has settled"));
}
