namespace VectorStore.Threading;

/// <summary>
/// The scheduler of the engine's parallel loops: it queues to the thread pool as the default one does, and lets a
/// thread that waits for a queued task run it itself when no pool thread has taken it yet.
/// </summary>
/// <remarks>
/// <para>Why: <see cref="Parallel.For(int, int, ParallelOptions, Action{int})"/> queues helper replicas and waits
/// for every one of them, even a replica that finds no work left. The default scheduler inlines a waited-for task only
/// if it can pop it from the waiting thread's own pool queue, so a loop run under a collection's write lock waits for
/// a free pool thread. When the pool's threads are themselves waiting for that lock (searches, a tuning, synchronous
/// callers), none is free until the pool injects one, about half a second per thread on a starved pool: measured,
/// single upserts into an IVF collection waited 0.5–0.9 s while a tuning's workers waited for the lock.</para>
/// <para>With this scheduler the waiting thread runs the replica (it claims what is left, usually nothing); a pool
/// thread that dequeues it later finds it done (<see cref="TaskScheduler.TryExecuteTask"/> runs a task once).</para>
/// Thread-safety: stateless; shared by every loop.
/// </remarks>
internal sealed class InliningTaskScheduler : TaskScheduler
{
    private readonly Action<Task> _queue;

    /// <summary>The scheduler every engine loop uses (<see cref="EngineParallel"/>).</summary>
    public static InliningTaskScheduler Instance { get; } = new(null);

    /// <summary>A scheduler handing queued tasks to <paramref name="queue"/> (null: the thread pool); tests pass one that starves.</summary>
    internal InliningTaskScheduler(Action<Task>? queue) =>
        // Local queue first, as the pool's own task scheduler does: a loop started on a pool thread keeps its helpers
        // near it, and idle pool threads still steal them.
        _queue = queue ?? (task => ThreadPool.UnsafeQueueUserWorkItem(static state => state.Scheduler.TryExecuteTask(state.Task), (Scheduler: this, Task: task), preferLocal: true));

    /// <inheritdoc />
    protected override void QueueTask(Task task) => _queue(task);

    /// <inheritdoc />
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => TryExecuteTask(task);

    /// <inheritdoc />
    protected override IEnumerable<Task>? GetScheduledTasks() => null;
}
