namespace VectorStore.Storage;

/// <summary>
/// Replays a collection's write-ahead log after its snapshot: shared by the read-write store's recovery and the
/// read-only open. Stateless; the caller owns the collection exclusively while it runs.
/// </summary>
internal static class LogReplay
{
    /// <summary>
    /// Applies every record in [<paramref name="from"/>, the durable address) to <paramref name="collection"/>, a batch
    /// at a time; a scan that stops short of the durable address is a <see cref="StoreCorruptedException"/>.
    /// </summary>
    public static void Run(IJournaledState collection, FasterWriteAheadLog wal, long from)
    {
        int dim = collection.Dimension;
        var ids = new List<ulong>();
        var vectors = new List<float[]>();
        var payloads = new List<byte[]?>();
        bool anyPayload = false;
        void Flush()
        {
            if (ids.Count == 0) return;
            var m = new VectorMatrix(vectors.Count == 1 ? vectors[0] : Concat(vectors, ids.Count * dim), dim);
            collection.ReplayUpserts(ids.ToArray(), m, anyPayload ? payloads.ToArray() : null);
            ids.Clear();
            vectors.Clear();
            payloads.Clear();
            anyPayload = false;
        }
        long end = wal.CommittedAddress;
        long reached = from;
        foreach (var entry in wal.Scan(from, end))
        {
            reached = entry.NextAddress;
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
            }
        }
        // FASTER's scan may stop early on damage it treats as the end of the log; acknowledged records would vanish.
        if (reached < end)
            throw new StoreCorruptedException(wal.SegmentPath(reached), $"log scan stopped at address {reached}, before the durable address {end}");
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
