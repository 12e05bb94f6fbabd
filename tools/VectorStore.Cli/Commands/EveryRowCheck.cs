namespace VectorStore.Cli.Commands;

/// <summary>
/// Reads every stored vector and payload of a database opened read-only, each checked against its own CRC as it is
/// read. An open checks snapshots, segment row tables and index files but never reads the rows, so a damaged row
/// passed <c>backup --verify</c> and <c>recover</c> until a search or a get reached it.
/// </summary>
internal static class EveryRowCheck
{
    /// <summary>
    /// Reads every record of <paramref name="name"/>; throws <see cref="StoreCorruptedException"/> naming the damaged
    /// file (from the read), or a count other than <paramref name="expected"/> (<paramref name="what"/> starts the message).
    /// </summary>
    public static void Run(VectorDatabase db, string directory, string name, long expected, string what)
    {
        var collection = db.GetCollection(name);
        long count = collection.Count;
        if (count != expected)
            throw new StoreCorruptedException(directory, $"{what} failed: collection '{name}' opens with {count} vectors, {expected} were expected");
        // One listing (an id page lists and sorts every id afresh, so paging would be quadratic).
        long read = 0;
        foreach (ulong id in collection.Ids())
            if (collection.Get(id) is not null) read++;
        if (read != count)
            throw new StoreCorruptedException(directory, $"{what} failed: collection '{name}' lists {count} vectors, {read} could be read");
    }
}
