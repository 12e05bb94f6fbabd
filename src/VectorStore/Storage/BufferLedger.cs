namespace VectorStore.Storage;

/// <summary>
/// The stores of one database, so the bound on buffered (not yet sealed) vectors,
/// <see cref="StorageSettings.CheckpointAfterBufferedBytes"/>, holds for the database rather than for each collection:
/// a silo holding four shard copies of 25 MiB each would otherwise keep all 100 MiB buffered (no copy alone reaches
/// the bound) beside the same vectors in its codes, and ran out of memory under a 400 MiB cap loading 98 MiB.
/// </summary>
/// <remarks>Thread-safety: safe from any thread (the store list is replaced under a lock and read without one).</remarks>
internal sealed class BufferLedger
{
    private readonly object _gate = new();
    private CollectionStore[] _stores = [];

    public void Add(CollectionStore store)
    {
        lock (_gate) _stores = [.. _stores, store];
    }

    public void Remove(CollectionStore store)
    {
        lock (_gate) _stores = Array.FindAll(_stores, s => !ReferenceEquals(s, store));
    }

    /// <summary>
    /// Whether the stores together buffer at least <paramref name="limit"/> bytes and <paramref name="mine"/> is at
    /// least an even share of that: the larger buffers are sealed first, and one store never seals for all of them.
    /// </summary>
    public bool SharedLimitReached(long mine, long limit)
    {
        var stores = Volatile.Read(ref _stores);
        // Below an even share of the limit this store is not asked to seal, whatever the others hold (and the sum, which
        // counts every store's buffer, is not taken on every write).
        if (stores.Length < 2 || mine * stores.Length < limit) return false;
        long total = 0;
        foreach (var s in stores) total += s.BufferedBytes;
        return total >= limit && mine * stores.Length >= total;
    }
}
