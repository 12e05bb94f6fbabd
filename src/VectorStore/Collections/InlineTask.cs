namespace VectorStore.Collections;

/// <summary>
/// Runs synchronous engine work on the calling thread and returns its result as a completed task: the asynchronous
/// API's reads, searches and metadata calls, which have nothing to wait for.
/// </summary>
internal static class InlineTask
{
    /// <summary>
    /// Cancelled when <paramref name="cancellationToken"/> already is; otherwise <paramref name="work"/>'s result, or
    /// its exception (an <see cref="OperationCanceledException"/> thrown by the work cancels the task).
    /// </summary>
    public static Task<T> Run<T>(Func<T> work, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<T>(cancellationToken);
        try
        {
            return Task.FromResult(work());
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }
        catch (Exception e)
        {
            return Task.FromException<T>(e);
        }
    }
}
