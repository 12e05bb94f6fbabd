namespace VectorStore.Storage;

/// <summary>The asynchronous commit path: waiters share one group commit and hold no thread while it is in flight.</summary>
internal sealed partial class FasterWriteAheadLog
{
    private readonly object _asyncGate = new();
    private Task? _groupCommit;
    private long _groupCommits;

    /// <summary>Group commits started by <see cref="CommitAsync"/> (tests check that concurrent waiters share them).</summary>
    internal long GroupCommits => Interlocked.Read(ref _groupCommits);

    /// <summary>
    /// Completes once every entry up to <paramref name="until"/> is durable, like <see cref="Commit"/>, but without
    /// blocking the caller: concurrent callers join the commit in flight (or the next one) and await it. FASTER's
    /// <see cref="FASTER.core.FasterLog.WaitForCommitAsync"/> does the waiting; the fsyncs run once per group, on the
    /// thread that completes FASTER's commit. Cancelling stops this caller's wait, never the commit.
    /// </summary>
    /// <remarks>
    /// <paramref name="epoch"/> is <see cref="Resets"/> when <paramref name="until"/> was appended: once the log has
    /// been reopened after a failure, an address of an earlier epoch is durable only if it was before that failure,
    /// and is otherwise reported with the failure (the address now belongs to other entries).
    /// </remarks>
    public async ValueTask CommitAsync(long until, long epoch, CancellationToken cancellationToken)
    {
        while (DurableIn(epoch) < until)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (epoch != Resets) throw FailureOf(epoch);
            Task group;
            lock (_asyncGate)
            {
                if (_groupCommit is null)
                {
                    _groupCommit = RunGroupCommitAsync();
                    // Every waiter may have cancelled by the time it faults: its failure must not surface as an
                    // UnobservedTaskException (the waiters that stayed see it through their own await).
                    ObserveFault(_groupCommit);
                }
                group = _groupCommit;
            }
            await group.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads a task's failure once it faults, so it never reaches <see cref="TaskScheduler.UnobservedTaskException"/>.</summary>
    private static void ObserveFault(Task task) =>
        task.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>
    /// Disposes FASTER's log. FASTER faults its pending commit task as it is disposed ("Log has been disposed"), and
    /// nothing awaits that task when no commit waits: its failure is read here, or every close of a database raised
    /// <see cref="TaskScheduler.UnobservedTaskException"/> (a false error in applications that log those).
    /// </summary>
    private static void DisposeFaster(FASTER.core.FasterLog log)
    {
        try { log.Dispose(); }
        finally
        {
            // FASTER 2.6.5 keeps the task internal; read through an accessor (no reflection, so trimming keeps it).
            try { ObserveFault(PendingCommitTask(log)); }
            catch (MissingMethodException) { /* another FASTER build: the fault stays unobserved, nothing worse */ }
        }
    }

    [System.Runtime.CompilerServices.UnsafeAccessor(System.Runtime.CompilerServices.UnsafeAccessorKind.Method, Name = "get_CommitTask")]
    private static extern Task<FASTER.core.LinkedCommitInfo> PendingCommitTask(FASTER.core.FasterLog log);

    private async Task RunGroupCommitAsync()
    {
        Interlocked.Increment(ref _groupCommits);
        try
        {
            // Writers appending right now join this commit rather than waiting for the next one. Forced onto the
            // thread pool, never the caller's SynchronizationContext: a single-threaded one with a caller blocked on
            // its write would never run the rest of this method.
            await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
            FASTER.core.FasterLog log;
            long target;
            // The commit is issued under the commit gate, like every other call into FASTER's log, so it never
            // reaches a log that Dispose has just disposed (FasterWriteAheadLog.Dispose).
            lock (_commitGate)
            {
                ThrowIfDisposed();
                ThrowIfFailed();
                log = _log;
                target = log.TailAddress;
                if (target <= _syncedUntil) return;
                try
                {
                    log.Commit(spinWait: false);
                }
                catch (Exception e) when (e is not VectorStoreException)
                {
                    throw Fail(e);
                }
            }
            try
            {
                // A log disposed from here on faults this wait with ObjectDisposedException.
                await log.WaitForCommitAsync(target).ConfigureAwait(false);
                RecordDurable(log.CommittedUntilAddress);
            }
            catch (ObjectDisposedException) when (Volatile.Read(ref _disposed))
            {
                throw; // the database was closed under the waiters, which is not a failure of the log
            }
            catch (Exception e) when (e is not VectorStoreException and not OperationCanceledException)
            {
                throw Fail(e);
            }
        }
        finally
        {
            // Taken only after the starter stored this task (it holds the gate while calling us), so the next
            // waiter starts a fresh group rather than awaiting a finished one forever.
            lock (_asyncGate) _groupCommit = null;
        }
    }

    /// <summary>Publishes a commit FASTER completed (see <see cref="PublishDurable"/>).</summary>
    private void RecordDurable(long reached)
    {
        lock (_commitGate)
        {
            ThrowIfDisposed(); // the durable-tail record is closed with the log
            PublishDurable(reached, force: false);
        }
    }
}
