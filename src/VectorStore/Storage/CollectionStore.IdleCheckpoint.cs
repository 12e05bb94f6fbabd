namespace VectorStore.Storage;

/// <summary>
/// The checkpoint after a quiet period (<see cref="StorageSettings.CheckpointWhenIdle"/>). The size thresholds alone
/// leave a collection that stops receiving writes holding up to <see cref="StorageSettings.CheckpointAfterBufferedBytes"/>
/// of buffered full-precision vectors in memory, and a log to replay, until it closes; once writes pause, nothing
/// competes with the checkpoint for the disk, so that is when it runs.
/// </summary>
/// <remarks>
/// One timer per store, armed by the first write after it last fired and never re-armed per write: a write only
/// stamps the time, and the timer, when it fires early, waits out the rest of the quiet period. So a steady writer
/// pays a timestamp per acknowledgement, not a timer-queue operation.
/// </remarks>
internal sealed partial class CollectionStore
{
    private Timer? _idleTimer;
    private long _lastWriteTicks;
    private int _idleTimerArmed;

    /// <summary>The longest period a <see cref="Timer"/> takes (about 49.7 days); longer ones mean never.</summary>
    internal static readonly TimeSpan LongestIdlePeriod = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private bool IdleCheckpointsOn => IdleCheckpointPeriod is not null;

    /// <summary>The quiet period after which a checkpoint starts, or null when idle checkpoints are off.</summary>
    internal TimeSpan? IdleCheckpointPeriod =>
        _settings.CheckpointWhenIdle > TimeSpan.Zero && _settings.CheckpointWhenIdle <= LongestIdlePeriod ? _settings.CheckpointWhenIdle : null;

    /// <summary>Stamps an acknowledged write and arms the idle timer unless it is armed already.</summary>
    private void NoteWriteForIdleCheckpoint()
    {
        if (!IdleCheckpointsOn) return;
        Volatile.Write(ref _lastWriteTicks, Environment.TickCount64);
        ArmIdleTimerUnlessArmed(_settings.CheckpointWhenIdle);
    }

    /// <summary>Arms the timer for <paramref name="due"/> unless it is armed already (then its own firing decides).</summary>
    private void ArmIdleTimerUnlessArmed(TimeSpan due)
    {
        if (Interlocked.Exchange(ref _idleTimerArmed, 1) != 0) return;
        // Under the gate Dispose disposes the timer under, so a close never races a timer being created or re-armed.
        lock (_backgroundGate)
        {
            if (_disposed) return;
            if (_idleTimer is null)
            {
                // Without the arming writer's execution context: its request's activity and async-locals would
                // otherwise parent every later idle checkpoint and stay alive as long as the store.
                using (ExecutionContext.SuppressFlow())
                    _idleTimer = new Timer(static s => ((CollectionStore)s!).OnIdleTimer(), this, Timeout.Infinite, Timeout.Infinite);
            }
            _idleTimer.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    private int _idleFailures;

    /// <summary>
    /// Tries again after a background checkpoint failed, so an idle collection is not left buffered: one period later,
    /// doubling with each failure in a row (up to 64 periods), since a failure that repeats (a full disk) gains
    /// nothing from being retried often.
    /// </summary>
    private void RetryIdleCheckpointLater()
    {
        if (!IdleCheckpointsOn || _disposed) return;
        int failures = Math.Min(6, Interlocked.Increment(ref _idleFailures) - 1);
        var wait = TimeSpan.FromTicks(Math.Min(LongestIdlePeriod.Ticks, _settings.CheckpointWhenIdle.Ticks << failures));
        ArmIdleTimerUnlessArmed(wait);
    }

    /// <summary>A checkpoint succeeded: the next failure is retried one period later again.</summary>
    private void NoteCheckpointSucceeded() => Volatile.Write(ref _idleFailures, 0);

    private void OnIdleTimer()
    {
        if (_disposed) return;
        // Disarmed before the stamp is read: a write that found the timer armed stamped before this, so it is seen
        // below; a later one arms the timer again itself.
        Interlocked.Exchange(ref _idleTimerArmed, 0);
        long quietMs = Environment.TickCount64 - Volatile.Read(ref _lastWriteTicks);
        long periodMs = (long)_settings.CheckpointWhenIdle.TotalMilliseconds;
        try
        {
            if (quietMs < periodMs)
            {
                ArmIdleTimerUnlessArmed(TimeSpan.FromMilliseconds(periodMs - quietMs));
                return;
            }
            // A checkpoint already running may have started before the last write: look again one period later.
            if (Dirty && !StartBackgroundCheckpoint()) ArmIdleTimerUnlessArmed(_settings.CheckpointWhenIdle);
        }
        catch (Exception e) when (e is ObjectDisposedException or VectorStoreException or OutOfMemoryException)
        {
            // A timer callback must not throw (it would end the process): a close racing this one, or no memory left
            // to start the checkpoint task (the next write or quiet period tries again).
            LastCheckpointError = e;
        }
    }
}
