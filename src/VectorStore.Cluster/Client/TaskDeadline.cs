namespace VectorStore.Cluster;

/// <summary>Waiting for a grain call with a deadline, and letting go of one that missed it.</summary>
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

    /// <summary>
    /// Marks a call nobody will await any more (it missed its deadline, or its copy was given up on) as observed, so
    /// its failure, should it fail later, is not reported as an unobserved task exception.
    /// </summary>
    public static void ObserveFaults(this Task call) =>
        call.ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
}
