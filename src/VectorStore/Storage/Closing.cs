namespace VectorStore.Storage;

/// <summary>
/// Closing several files or parts as one step. A close that throws part-way must not leave the parts after it open: a
/// database whose close stopped at its first failing collection kept the other collections' logs and its <c>LOCK</c>
/// file, so the same process could not open the directory again. Thread-safety: stateless.
/// </summary>
internal static class Closing
{
    /// <summary>
    /// Disposes each part, in order, also after one before it throws (even out of memory: the rest must still close).
    /// Returns the first error, or null; every error is traced with <paramref name="what"/>, since only the first
    /// reaches the caller.
    /// </summary>
    public static Exception? All(string what, params IDisposable?[] parts)
    {
        Exception? first = null;
        foreach (var part in parts)
        {
            try { part?.Dispose(); }
            catch (Exception e)
            {
                first ??= e;
                System.Diagnostics.Trace.TraceWarning($"{what}: closing {part!.GetType().Name} failed: {e.Message}");
            }
        }
        return first;
    }

    /// <summary>Rethrows <paramref name="error"/> with its own stack trace, when there is one.</summary>
    public static void ThrowIfFailed(Exception? error)
    {
        if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
    }
}
