namespace VectorStore.Collections;

/// <summary>
/// How <see cref="SearchTuner"/> reaches a collection's data: it takes the collection's read lock for one unit of its
/// work at a time (the sample, a slice of one query's exact scan, one query's candidates, one timing pass) instead of
/// for the whole tuning, so writers (and the searches queued behind a waiting writer) are held off for milliseconds,
/// not for the seconds a tuning takes. Between two units the collection may change: <see cref="Changed"/> names the
/// slots written or deleted since the tuning listed the live slots, and a tuning whose index is replaced is abandoned.
/// </summary>
internal interface ITuningAccess
{
    /// <summary>
    /// Takes the read lock for one unit of work (a thread holds at most one unit at a time).
    /// </summary>
    /// <exception cref="TuningAbandonedException">The tuned index is no longer the one the tuning started on, or
    /// more slots changed than a unit can re-score (<see cref="SlotChanges.Limit"/>).</exception>
    /// <exception cref="ObjectDisposedException">The collection closed.</exception>
    void Enter();

    /// <summary>Releases what <see cref="Enter"/> took.</summary>
    void Exit();

    /// <summary>Whether <paramref name="slot"/> holds a live vector now (inside a unit of work).</summary>
    bool IsLive(int slot);

    /// <summary>
    /// The slots written or deleted since the first unit (when the tuning listed the live slots); read inside a unit.
    /// </summary>
    SlotChanges Changed { get; }
}

/// <summary>
/// The slots a collection's writes touched (placed, overwritten or deleted) while one tuning runs, each once, in the
/// order first touched. Writes add under the collection's write lock, the tuning reads inside its units (read lock).
/// </summary>
/// <remarks>
/// A slot's liveness alone does not tell the tuner its vector is the one it scored: a deleted slot is reused by the
/// next added vector, and an upsert overwrites in place.
/// </remarks>
internal sealed class SlotChanges
{
    /// <summary>
    /// Changed slots past which a tuning is abandoned (and started afresh): each unit that measures a query scores
    /// every changed slot, and beyond this that costs more than a slice of the exact scan.
    /// </summary>
    public const int Limit = 16_384;

    private readonly HashSet<int> _set = [];
    private readonly List<int> _order = [];

    public int Count => _order.Count;

    public int this[int i] => _order[i];

    public bool Contains(int slot) => _set.Contains(slot);

    public void Note(int slot)
    {
        if (_set.Add(slot)) _order.Add(slot);
    }
}

/// <summary>A tuning stopped because the index it tuned changed meanwhile (retrained, rebalanced, or its generation dropped), or too many of its slots did.</summary>
internal sealed class TuningAbandonedException() : Exception("the index being tuned changed under the tuning");
