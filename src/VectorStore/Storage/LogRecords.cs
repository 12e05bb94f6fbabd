using System.Buffers.Binary;
using System.Runtime.InteropServices;
using K4os.Compression.LZ4;
using VectorStore.Memory;

namespace VectorStore.Storage;

/// <summary>Kinds of write-ahead log records.</summary>
internal enum LogRecordKind : byte
{
    /// <summary>A chunk of an upsert batch (one or more vectors).</summary>
    UpsertChunk = 1,

    /// <summary>A delete of one id.</summary>
    Delete = 2,

    /// <summary>An explicit <c>BuildIndex</c> (training before the threshold), replayed so the index exists again.</summary>
    BuildIndex = 3,

    /// <summary>A compression-generation change: declare a candidate, make one live (promote or rollback), drop one.</summary>
    Generation = 4,
}

/// <summary>What a <see cref="LogRecordKind.Generation"/> record does.</summary>
internal enum GenerationOp : byte
{
    /// <summary>A candidate generation with its specs is declared (built in the background; rebuilt after a crash).</summary>
    Declare = 1,

    /// <summary>The generation becomes live; the live one is retired (promote) or demoted to candidate (rollback).</summary>
    SetLive = 2,

    /// <summary>The generation is dropped (gc).</summary>
    Drop = 3,

    /// <summary>The collection's lifecycle policy is set (its encoding, <see cref="PolicyCodec"/>, in the first string slot).</summary>
    Policy = 4,
}

/// <summary>One decoded generation record.</summary>
internal sealed record GenerationRecord(GenerationOp Op, int Number, string? Compression, string? Index, bool Rollback)
{
    /// <summary>A declare whose generation trains on a sample the caller gave (flag bit 1): never rebuilt by recovery.</summary>
    public bool GivenSample { get; init; }

    /// <summary>The encoded policy of an <see cref="GenerationOp.Policy"/> record.</summary>
    public byte[]? Policy { get; init; }
}

/// <summary>One decoded upsert chunk.</summary>
internal sealed record UpsertChunk(ulong[] Ids, float[] Vectors, byte[]?[] Payloads, byte[]?[] Fields, bool EndOfBatch);

/// <summary>
/// Encodes and decodes log records (layout in data-format.md §4.3). Each record ends with its own CRC-32, on top of
/// FASTER's per-entry checksum, so a damaged record is caught even if FASTER's scan lets it through.
/// Thread-safety: stateless except the caller-owned buffers.
/// </summary>
internal static class LogRecords
{
    /// <summary>Newest record version read: upsert chunks are written at 2 (field values), deletes and build-index at 1.</summary>
    public const byte Version = 2;
    private const byte UpsertVersion = 2;
    private const byte OtherVersion = 1;
    private const byte FlagEndOfBatch = 1;
    private const byte FlagLz4 = 1;
    private const int ChunkHeader = 2 + 1 + 4 + 4;

    /// <summary>
    /// Splits a batch into upsert-chunk records of at most <paramref name="maxEntry"/> bytes and hands each to
    /// <paramref name="append"/>; the last one carries the end-of-batch flag so recovery replays the batch as one unit.
    /// </summary>
    public static long WriteUpserts(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads, IReadOnlyList<byte[]?>? fields,
        int maxEntry, Func<ReadOnlySpan<byte>, long> append)
    {
        int dim = vectors.Dimension;
        int rawBytes = dim * sizeof(float);
        int maxItem = ItemBound(rawBytes, 0);
        for (int i = 0; i < ids.Count; i++)
        {
            int need = ChunkHeader + ItemBound(rawBytes, (payloads?[i]?.Length ?? 0) + (fields?[i]?.Length ?? 0)) + 4;
            if (need > maxEntry)
                throw new InvalidArgumentException($"id {ids[i]}: vector, payload and fields ({need} bytes) exceed the log's {maxEntry}-byte record limit");
        }
        // Pooled: a fresh array per batch (up to a megabyte) cost its zeroing and page faults on every acknowledged
        // batch. The capacity, not the rented length, bounds a chunk, so no record exceeds maxEntry.
        int capacity = Math.Min(maxEntry, Math.Max(ChunkHeader + maxItem + 4, 256 * 1024));
        var buffer = TransientBuffers.Rent(capacity);
        try
        {
            long last = 0;
            int start = 0;
            // Embeddings are near-incompressible: after 8 consecutive vectors that LZ4 cannot shrink, the rest of the
            // batch is stored raw without trying (the flag stays per vector, so the format does not change).
            int tryLz4 = 8;
            while (start < ids.Count)
            {
                int pos = ChunkHeader;
                int count = 0;
                while (start + count < ids.Count)
                {
                    int i = start + count;
                    var payload = payloads?[i];
                    var fieldRecord = fields?[i];
                    int bound = ItemBound(rawBytes, (payload?.Length ?? 0) + (fieldRecord?.Length ?? 0));
                    if (pos + bound + 4 > capacity)
                    {
                        if (count > 0) break;
                        capacity = pos + bound + 4;
                        if (capacity > buffer.Length)
                        {
                            var larger = TransientBuffers.Rent(capacity);
                            buffer.AsSpan(0, pos).CopyTo(larger);
                            TransientBuffers.Return(buffer);
                            buffer = larger;
                        }
                    }
                    pos = WriteItem(buffer, pos, ids[i], vectors.Row(i), payload, fieldRecord, ref tryLz4);
                    count++;
                }
                bool end = start + count == ids.Count;
                buffer[0] = (byte)LogRecordKind.UpsertChunk;
                buffer[1] = UpsertVersion;
                buffer[2] = end ? FlagEndOfBatch : (byte)0;
                BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(3), count);
                BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(7), dim);
                Checksums.WriteCrc(buffer, pos);
                last = append(buffer.AsSpan(0, pos + 4));
                start += count;
            }
            return last;
        }
        finally { TransientBuffers.Return(buffer); }
    }

    private static int ItemBound(int rawBytes, int extra) => 8 + 1 + 4 + LZ4Codec.MaximumOutputSize(rawBytes) + 4 + 4 + extra;

    private static int WriteItem(byte[] buffer, int pos, ulong id, ReadOnlySpan<float> vector, byte[]? payload, byte[]? fields, ref int tryLz4)
    {
        var raw = MemoryMarshal.AsBytes(vector);
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(pos), id);
        int lenAt = pos + 9;
        int dataAt = pos + 13;
        // LZ4 only where it saves bytes: embeddings rarely compress, but zero-padded or low-entropy vectors do.
        int packed = tryLz4 > 0 ? LZ4Codec.Encode(raw, buffer.AsSpan(dataAt, LZ4Codec.MaximumOutputSize(raw.Length)), LZ4Level.L00_FAST) : -1;
        if (packed > 0 && packed < raw.Length)
        {
            buffer[pos + 8] = FlagLz4;
            tryLz4 = 8;
        }
        else
        {
            if (tryLz4 > 0) tryLz4--;
            buffer[pos + 8] = 0;
            raw.CopyTo(buffer.AsSpan(dataAt));
            packed = raw.Length;
        }
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(lenAt), packed);
        pos = dataAt + packed;
        int plen = payload?.Length ?? 0;
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(pos), plen);
        pos += 4;
        if (plen > 0) payload.AsSpan().CopyTo(buffer.AsSpan(pos));
        pos += plen;
        int flen = fields?.Length ?? 0;
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(pos), flen);
        pos += 4;
        if (flen > 0) fields.AsSpan().CopyTo(buffer.AsSpan(pos));
        return pos + flen;
    }

    public static byte[] Delete(ulong id)
    {
        var b = new byte[2 + 8 + 4];
        b[0] = (byte)LogRecordKind.Delete;
        b[1] = OtherVersion;
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(2), id);
        Checksums.WriteCrc(b, 10);
        return b;
    }

    public static byte[] BuildIndex()
    {
        var b = new byte[2 + 4];
        b[0] = (byte)LogRecordKind.BuildIndex;
        b[1] = OtherVersion;
        Checksums.WriteCrc(b, 2);
        return b;
    }

    /// <summary>
    /// A generation change (data-format.md §4.3): op, number, flags (bit 0: a set-live that is a rollback; bit 1: a
    /// declare trained on the caller's sample), and for a declare the compression and index specs as length-prefixed UTF-8.
    /// </summary>
    public static byte[] Generation(GenerationRecord g)
    {
        var c = g.Policy ?? System.Text.Encoding.UTF8.GetBytes(g.Compression ?? "");
        var i = System.Text.Encoding.UTF8.GetBytes(g.Index ?? "");
        if (c.Length > ushort.MaxValue || i.Length > ushort.MaxValue) throw new InvalidArgumentException("generation spec is too long");
        var b = new byte[2 + 1 + 4 + 1 + 2 + c.Length + 2 + i.Length + 4];
        b[0] = (byte)LogRecordKind.Generation;
        b[1] = OtherVersion;
        b[2] = (byte)g.Op;
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(3), g.Number);
        b[7] = (byte)((g.Rollback ? 1 : 0) | (g.GivenSample ? 2 : 0));
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(8), (ushort)c.Length);
        c.CopyTo(b, 10);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(10 + c.Length), (ushort)i.Length);
        i.CopyTo(b, 12 + c.Length);
        Checksums.WriteCrc(b, b.Length - 4);
        return b;
    }

    /// <summary>Decodes a generation record whose CRC was already checked by <see cref="Kind"/>.</summary>
    public static GenerationRecord ReadGeneration(ReadOnlySpan<byte> record, string where)
    {
        try
        {
            var op = (GenerationOp)record[2];
            if (op is not (GenerationOp.Declare or GenerationOp.SetLive or GenerationOp.Drop or GenerationOp.Policy))
                throw new StoreCorruptedException(where, $"unknown generation operation {record[2]}");
            int number = BinaryPrimitives.ReadInt32LittleEndian(record[3..]);
            if (number <= 0) throw new StoreCorruptedException(where, $"generation number {number} is invalid");
            int cl = BinaryPrimitives.ReadUInt16LittleEndian(record[8..]);
            var first = record.Slice(10, cl);
            string c = op == GenerationOp.Policy ? "" : System.Text.Encoding.UTF8.GetString(first);
            int il = BinaryPrimitives.ReadUInt16LittleEndian(record[(10 + cl)..]);
            string i = System.Text.Encoding.UTF8.GetString(record.Slice(12 + cl, il));
            if (12 + cl + il + 4 != record.Length) throw new StoreCorruptedException(where, "generation record has trailing bytes");
            return new GenerationRecord(op, number, op == GenerationOp.Declare ? c : null, op == GenerationOp.Declare ? i : null, (record[7] & 1) != 0)
            {
                Policy = op == GenerationOp.Policy ? first.ToArray() : null,
                GivenSample = op == GenerationOp.Declare && (record[7] & 2) != 0,
            };
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new StoreCorruptedException(where, "generation record is truncated", e);
        }
    }

    /// <summary>Checks the record's CRC and version and returns its kind; <paramref name="where"/> names it in errors.</summary>
    public static LogRecordKind Kind(ReadOnlySpan<byte> record, string where)
    {
        if (record.Length < 6 || !Checksums.CheckCrc(record)) throw new StoreCorruptedException(where, "log record checksum mismatch");
        if (record[1] > Version) throw new StoreCorruptedException(where, $"log record version {record[1]} is newer than this build supports ({Version})");
        var kind = (LogRecordKind)record[0];
        if (kind is not (LogRecordKind.UpsertChunk or LogRecordKind.Delete or LogRecordKind.BuildIndex or LogRecordKind.Generation))
            throw new StoreCorruptedException(where, $"unknown log record kind {record[0]}");
        return kind;
    }

    public static ulong ReadDelete(ReadOnlySpan<byte> record) => BinaryPrimitives.ReadUInt64LittleEndian(record[2..]);

    /// <summary>Decodes an upsert chunk whose CRC was already checked by <see cref="Kind"/>.</summary>
    /// <summary>Rows in an upsert chunk this process just wrote (<see cref="WriteUpserts"/>'s layout: count at byte 3).</summary>
    public static int UpsertChunkCount(ReadOnlySpan<byte> chunk) => BinaryPrimitives.ReadInt32LittleEndian(chunk[3..]);

    public static UpsertChunk ReadUpserts(ReadOnlySpan<byte> record, int dimension, string where)
    {
        try
        {
            bool end = (record[2] & FlagEndOfBatch) != 0;
            int count = BinaryPrimitives.ReadInt32LittleEndian(record[3..]);
            int dim = BinaryPrimitives.ReadInt32LittleEndian(record[7..]);
            if (dim != dimension) throw new StoreCorruptedException(where, $"log record dimension {dim} differs from the collection's {dimension}");
            if (count < 0 || count > record.Length) throw new StoreCorruptedException(where, $"log record claims {count} vectors");
            var ids = new ulong[count];
            var vectors = new float[(long)count * dim];
            var payloads = new byte[]?[count];
            var fields = new byte[]?[count];
            bool hasFields = record[1] >= 2;
            var body = record[..^4];
            int pos = ChunkHeader;
            int rawBytes = dim * sizeof(float);
            for (int i = 0; i < count; i++)
            {
                ids[i] = BinaryPrimitives.ReadUInt64LittleEndian(body[pos..]);
                byte flags = body[pos + 8];
                int len = BinaryPrimitives.ReadInt32LittleEndian(body[(pos + 9)..]);
                var data = body.Slice(pos + 13, len);
                var target = MemoryMarshal.AsBytes(vectors.AsSpan(i * dim, dim));
                if ((flags & FlagLz4) != 0)
                {
                    if (LZ4Codec.Decode(data, target) != rawBytes) throw new StoreCorruptedException(where, $"LZ4 vector of id {ids[i]} does not decode to {rawBytes} bytes");
                }
                else
                {
                    if (len != rawBytes) throw new StoreCorruptedException(where, $"vector of id {ids[i]} has {len} bytes, expected {rawBytes}");
                    data.CopyTo(target);
                }
                pos += 13 + len;
                int plen = BinaryPrimitives.ReadInt32LittleEndian(body[pos..]);
                pos += 4;
                payloads[i] = plen > 0 ? body.Slice(pos, plen).ToArray() : null;
                pos += plen;
                if (!hasFields) continue;
                int flen = BinaryPrimitives.ReadInt32LittleEndian(body[pos..]);
                pos += 4;
                fields[i] = flen > 0 ? body.Slice(pos, flen).ToArray() : null;
                pos += flen;
            }
            if (pos != body.Length) throw new StoreCorruptedException(where, "log record has trailing bytes");
            return new UpsertChunk(ids, vectors, payloads, fields, end);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new StoreCorruptedException(where, "log record is truncated inside its body", e);
        }
    }
}
