namespace VectorStore.Threading;

/// <summary>
/// The options of the engine's parallel loops: a degree of parallelism and <see cref="InliningTaskScheduler"/>, so a
/// loop never waits for a pool thread that may be blocked on the lock its caller holds.
/// </summary>
internal static class EngineParallel
{
    /// <summary>Up to <paramref name="threads"/> workers when positive, else one per core.</summary>
    public static ParallelOptions Options(int threads = 0) => new()
    {
        MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount,
        TaskScheduler = InliningTaskScheduler.Instance,
    };
}
