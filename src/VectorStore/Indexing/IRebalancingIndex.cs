namespace VectorStore.Indexing;

/// <summary>
/// The full-precision vector stored at <paramref name="slot"/>. Used by index maintenance to re-encode entries
/// exactly instead of from their lossy codes. Implementations must allow concurrent calls.
/// </summary>
public delegate ReadOnlySpan<float> SlotVectorSource(int slot);

/// <summary>
/// An index whose structure degrades under updates and can be repaired online (IVF lists drift out of balance).
/// Maintenance runs in two steps so the expensive part does not block searches: <see cref="PlanRebalance"/> builds
/// the new structure beside the old one while searches continue, <see cref="ApplyRebalance"/> swaps it in.
/// </summary>
/// <remarks>
/// Thread-safety: <see cref="PlanRebalance"/> may run concurrently with searches but not with mutations;
/// <see cref="ApplyRebalance"/> is a mutation (exclusive). <see cref="NeedsRebalance"/> is a cheap heuristic that may
/// be read without a lock.
/// </remarks>
public interface IRebalancingIndex
{
    /// <summary>Whether the index's health crossed its rebalancing threshold.</summary>
    bool NeedsRebalance { get; }

    /// <summary>
    /// Computes the repaired structure. With <paramref name="force"/> it repairs (and compacts) even below the
    /// threshold. <paramref name="vectors"/> supplies full-precision vectors; null means re-encode from decoded codes.
    /// </summary>
    IndexRebalancePlan PlanRebalance(SlotVectorSource? vectors, bool force);

    /// <summary>
    /// Installs a plan made by <see cref="PlanRebalance"/> on this index. Throws <see cref="InvalidOperationException"/>
    /// if the index was mutated after the plan was made (the plan would lose those changes).
    /// </summary>
    void ApplyRebalance(IndexRebalancePlan plan);
}
