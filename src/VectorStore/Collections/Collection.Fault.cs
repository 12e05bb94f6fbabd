using VectorStore.Storage;

namespace VectorStore.Collections;

/// <summary>
/// Fail-stop after a write's in-memory apply failed. A write is logged first and then applied to the slot table, the
/// vector store and the indexes; an exception in between (an <see cref="OutOfMemoryException"/> under a memory limit,
/// measured: a block of the row buffer refused halfway through a batch) leaves some rows placed and others not, so
/// memory no longer matches the log and later calls would fail on, or answer from, rows that are half there. There is
/// no general undo for that state, but the log is whole: the collection stops (every call, and every snapshot, throws
/// <see cref="CollectionFaultedException"/>) and the database reopens it from its files when it is next asked for it
/// (<see cref="VectorDatabase.GetCollection"/>), replaying the log past the last snapshot.
/// </summary>
/// <remarks>
/// Failures before the log append (validation, a full disk, a log that cannot take the record) change nothing and
/// are thrown as they are; the journal's own commit failures are undone by <c>Collection.Undo.cs</c>, and a
/// collection whose log cannot be reopened after such a failure stops here too: its files then decide which of the
/// failed writes survived.
/// </remarks>
public sealed partial class Collection
{
    private volatile Exception? _fault;
    // What failed, for the error's text (set with _fault).
    private string _faultWhat = ApplyFailed;
    private const string ApplyFailed = "applying a logged write in memory failed";

    /// <summary>Whether a failed in-memory apply stopped this collection (see <see cref="CollectionFaultedException"/>).</summary>
    internal bool Faulted => _fault is not null;

    /// <summary>Stops the collection because of <paramref name="cause"/> and returns the exception to throw.</summary>
    private CollectionFaultedException Fault(Exception cause, string what = ApplyFailed)
    {
        if (cause is CollectionFaultedException faulted) return faulted;
        lock (_faultGate)
        {
            if (_fault is null)
            {
                _faultWhat = what;
                _fault = cause;
            }
        }
        return FaultedError(_fault);
    }

    private readonly Lock _faultGate = new();

    private CollectionFaultedException FaultedError(Exception cause) => new(Name,
        $"collection '{Name}' stopped serving: {_faultWhat} ({cause.GetType().Name}: {cause.Message}). " +
        (_journal is not NullJournal
            ? "Its files are intact and hold every acknowledged write; get the collection from its database again to reopen it from them."
            : "It is in memory only, so it cannot be recovered: drop it and create it again."),
        cause);

    /// <summary>Throws <see cref="CollectionFaultedException"/> once the collection stopped.</summary>
    internal void ThrowIfFaulted()
    {
        if (_fault is { } cause) throw FaultedError(cause);
    }

    /// <summary>Test hook: runs for each row a write places, after its log append, with the row's index in the batch (null outside tests).</summary>
    internal Action<int>? DuringApplyForTests { get; set; }
}
