namespace VectorStore.Storage;

/// <summary>
/// Replays a collection's write-ahead log after its snapshot: shared by the read-write store's recovery and the
/// read-only open. Stateless; the caller owns the collection exclusively while it runs.
/// </summary>
internal static class LogReplay
{
    /// <summary>
    /// Restores the snapshot <paramref name="entry"/> names (if any) into <paramref name="collection"/> and returns the
    /// log address to replay from: the snapshot's, checked against the manifest and against the log's
    /// <paramref name="logBegin"/> (records between them would be lost), or <paramref name="logBegin"/> without one.
    /// </summary>
    /// <remarks>
    /// Without a snapshot the log must hold every record: <paramref name="truncated"/> (its first entries were dropped
    /// by a checkpoint, so a snapshot was published before) is then a refusal, never a shorter collection.
    /// </remarks>
    public static long RestoreSnapshot(IJournaledState collection, string directory, ManifestCollection entry, long logBegin, string logFile, bool truncated, out bool legacy)
    {
        legacy = false;
        if (entry.Snapshot is not { } snap)
        {
            if (truncated)
                throw new StoreCorruptedException(logFile, $"collection '{entry.Name}' names no snapshot, but its log was truncated at {logBegin} after one: the records before it are lost");
            return logBegin;
        }
        string path = Path.Combine(directory, snap);
        long covered = collection.RestoreSnapshot(path, out legacy);
        if (covered != entry.SnapshotLogAddress)
            throw new StoreCorruptedException(path, $"snapshot covers log address {covered}, the manifest says {entry.SnapshotLogAddress}");
        if (logBegin > covered)
            throw new StoreCorruptedException(logFile, $"log begins at {logBegin}, after the snapshot's address {covered}: records in between are lost");
        return covered;
    }

    /// <summary>
    /// Applies every record in [<paramref name="from"/>, the durable address) to <paramref name="collection"/>, a batch
    /// at a time. The log's scan proves it read every entry up to the durable address (a gap or a short scan is a
    /// <see cref="StoreCorruptedException"/> raised by the scan itself).
    /// </summary>
    public static void Run(IJournaledState collection, FasterWriteAheadLog wal, long from)
    {
        int dim = collection.Dimension;
        var ids = new List<ulong>();
        var vectors = new List<float[]>();
        var payloads = new List<byte[]?>();
        var fields = new List<byte[]?>();
        bool anyPayload = false, anyFields = false;
        void Flush()
        {
            if (ids.Count == 0) return;
            var m = new VectorMatrix(vectors.Count == 1 ? vectors[0] : Concat(vectors, ids.Count * dim), dim);
            collection.ReplayUpserts(ids.ToArray(), m, anyPayload ? payloads.ToArray() : null, anyFields ? fields.ToArray() : null);
            ids.Clear();
            vectors.Clear();
            payloads.Clear();
            fields.Clear();
            anyPayload = anyFields = false;
        }
        foreach (var entry in wal.Scan(from, wal.CommittedAddress))
        {
            string where = wal.SegmentPath(entry.Address);
            LogRecordKind kind;
            try
            {
                kind = LogRecords.Kind(entry.Data, where);
            }
            catch (StoreCorruptedException e)
            {
                throw new StoreCorruptedException(where, $"record at address {entry.Address}: {e.Message[(where.Length + 2)..]}", e);
            }
            switch (kind)
            {
                case LogRecordKind.UpsertChunk:
                    var chunk = LogRecords.ReadUpserts(entry.Data, dim, where);
                    ids.AddRange(chunk.Ids);
                    vectors.Add(chunk.Vectors);
                    payloads.AddRange(chunk.Payloads);
                    anyPayload |= chunk.Payloads.Any(p => p is not null);
                    fields.AddRange(chunk.Fields);
                    anyFields |= chunk.Fields.Any(f => f is not null);
                    // A batch is replayed as one unit so training happens at the same point as in the original run.
                    if (chunk.EndOfBatch) Flush();
                    break;
                case LogRecordKind.Delete:
                    Flush();
                    collection.ReplayDelete(LogRecords.ReadDelete(entry.Data));
                    break;
                case LogRecordKind.BuildIndex:
                    Flush();
                    collection.ReplayBuildIndex();
                    break;
                case LogRecordKind.Generation:
                    Flush();
                    collection.ReplayGeneration(LogRecords.ReadGeneration(entry.Data, where));
                    break;
            }
        }
        // A trailing partial batch was committed by another writer's group commit but never acknowledged; its
        // records are complete and checksummed, so applying them is safe.
        Flush();
    }

    private static float[] Concat(List<float[]> parts, int total)
    {
        var all = new float[total];
        int at = 0;
        foreach (var p in parts)
        {
            p.CopyTo(all, at);
            at += p.Length;
        }
        return all;
    }
}
