namespace VectorStore.Collections;

/// <summary>
/// How <see cref="SearchTuner"/> reaches a collection's data: it takes the collection's read lock for one unit of its
/// work at a time (the sample, a slice of one query's exact scan, one query's candidates, one timing pass) instead of
/// for the whole tuning, so writers (and the searches queued behind a waiting writer) are held off for milliseconds,
/// not for the seconds a tuning takes. Between two units the collection may change: slots are tested with
/// <see cref="IsLive"/> before their vectors are read, and a tuning whose index is replaced is abandoned.
/// </summary>
internal interface ITuningAccess
{
    /// <summary>
    /// Takes the read lock for one unit of work (a thread holds at most one unit at a time).
    /// </summary>
    /// <exception cref="TuningAbandonedException">The tuned index is no longer the one the tuning started on.</exception>
    /// <exception cref="ObjectDisposedException">The collection closed.</exception>
    void Enter();

    /// <summary>Releases what <see cref="Enter"/> took.</summary>
    void Exit();

    /// <summary>Whether <paramref name="slot"/> holds a live vector now (inside a unit of work).</summary>
    bool IsLive(int slot);
}

/// <summary>A tuning stopped because the index it tuned changed meanwhile (retrained, rebalanced, or its generation dropped).</summary>
internal sealed class TuningAbandonedException() : Exception("the index being tuned changed under the tuning");
