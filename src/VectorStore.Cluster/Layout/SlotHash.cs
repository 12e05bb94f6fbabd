namespace VectorStore.Cluster.Layout;

/// <summary>
/// Maps an id to its virtual slot. The function is part of the cluster's persistent contract (docs/cluster.md): a
/// layout stores slot → shard, so changing the hash would silently move every id to another shard.
/// </summary>
/// <remarks>Thread-safety: stateless, safe from any thread.</remarks>
public static class SlotHash
{
    /// <summary>Virtual slots of a new collection. Fixed per collection; shards are groups of slots.</summary>
    public const int DefaultSlotCount = 1024;

    /// <summary>The slot of <paramref name="id"/> among <paramref name="slotCount"/> slots.</summary>
    /// <remarks>
    /// SplitMix64's finalizer, so sequential ids (the common case) spread evenly instead of striping by their low
    /// bits; then a multiply-shift range reduction, which has no modulo bias worth naming for 2^64 / slotCount.
    /// </remarks>
    public static int Slot(ulong id, int slotCount)
    {
        if (slotCount <= 0) throw new InvalidArgumentException($"slot count must be positive, got {slotCount}");
        ulong z = id + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(((UInt128)z * (uint)slotCount) >> 64);
    }
}
