using VectorStore.Indexing;
using VectorStore.Quantization;

namespace VectorStore.Storage;

/// <summary>
/// What one snapshot is to hold (data-format.md §4.4), gathered by its owner under the lock that makes it consistent
/// and written by <see cref="SnapshotFile.Write"/>; what is read back is <see cref="SnapshotFile.Contents"/>.
/// Storage sees the owner's state only through these parts, never the owner itself.
/// Thread-safety: immutable once built; the arrays and functions it holds are read while the owner's lock is held.
/// </summary>
internal sealed class SnapshotImage
{
    /// <summary>The log address the snapshot covers: a record boundary, every record before it reflected.</summary>
    public required long LogAddress { get; init; }

    public required int Dimension { get; init; }

    /// <summary>Slots ever used: the per-slot state covers slots 0 to <see cref="HighWater"/> − 1.</summary>
    public required int HighWater { get; init; }

    /// <summary>Live slots.</summary>
    public required int Count { get; init; }

    /// <summary>One bit per slot, set when the slot is live.</summary>
    public required ulong[] LiveBits { get; init; }

    /// <summary>Per slot its id.</summary>
    public required ulong[] Ids { get; init; }

    /// <summary>Per slot its encoded field values, or null when the collection declares no fields.</summary>
    public Func<int, byte[]?>? Fields { get; init; }

    /// <summary>The sealed segments the snapshot names, in order.</summary>
    public required IReadOnlyList<(int Sequence, int Rows)> Segments { get; init; }

    /// <summary>Per slot <c>(sequence &lt;&lt; 32) | row</c> of its row, or -1.</summary>
    public required Func<int, long> Location { get; init; }

    /// <summary>The live generation's trained index, or null while untrained.</summary>
    public VectorIndex? Index { get; init; }

    /// <summary>The second-stage codes, or null.</summary>
    public RefineStage? Refine { get; init; }

    /// <summary>The compression generations, drift and tuning state; null: one live generation with the options' specs.</summary>
    public SnapshotGenerations? Generations { get; init; }

    /// <summary>
    /// The index file the index lives in, or null to write the index inline. With an index that writes change images,
    /// its change image since that file goes into the snapshot; otherwise <see cref="ChangedSlots"/> do.
    /// </summary>
    public PinnedFileReference? IndexFile { get; init; }

    /// <summary>With <see cref="IndexFile"/> (no change images): the slots changed since the file was written, ascending.</summary>
    public IReadOnlyList<int>? ChangedSlots { get; init; }

    /// <summary>The slot file the per-slot state lives in and the slots changed since, or null to write it inline.</summary>
    public (PinnedFileReference File, int[] Changed)? SlotFile { get; init; }
}
