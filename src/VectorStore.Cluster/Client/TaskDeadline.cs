namespace VectorStore.Cluster;

/// <summary>Waiting for a grain call with a deadline.</summary>
/// <remarks>Thread-safety: stateless.</remarks>
internal static class TaskDeadline
{
    /// <summary>
    /// Whether <paramref name="call"/> has completed (in any state) within <paramref name="timeout"/>; never throws.
    /// The deadline's timer is released as soon as the call completes. A <c>Task.Delay</c> raced against the call
    /// stays registered until it fires, so under load every shard call left a timer alive for the whole shard timeout:
    /// tens of thousands of them in a coordinator at a few thousand queries per second.
    /// </summary>
    public static async Task<bool> CompletesWithin(this Task call, TimeSpan timeout)
    {
        if (!call.IsCompleted && timeout > TimeSpan.Zero)
            await call.WaitAsync(timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return call.IsCompleted;
    }
}
