using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace VectorStore.Storage;

/// <summary>
/// Our own checksummed, fsynced record of the log's begin and last durable address (file <c>wal.tail</c>), written
/// after every commit. FASTER's commit metadata is not trusted alone (an empty newest commit file makes it reopen an
/// empty log; its checksum is not verified). Two 40-byte slots are written alternately so a torn write leaves the
/// previous record intact. Thread-safety: callers serialize <see cref="Record"/> (the log's commit gate).
/// </summary>
internal sealed class DurableTail : IDisposable
{
    public const string FileName = "wal.tail";
    private const ulong Magic = 0x314C494154535600; // "\0VSTAIL1" little-endian
    private const int SlotSize = 40;
    private readonly SafeFileHandle _handle;
    private ulong _sequence;

    private DurableTail(string path, SafeFileHandle handle, ulong sequence)
    {
        Path = path;
        _handle = handle;
        _sequence = sequence;
    }

    /// <summary>The record's file.</summary>
    public string Path { get; }

    /// <summary>Creates a fresh record file (the caller records the initial addresses).</summary>
    public static DurableTail Create(string path)
    {
        var handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read);
        RandomAccess.Write(handle, new byte[2 * SlotSize], 0);
        return new DurableTail(path, handle, 0);
    }

    /// <summary>Opens an existing record file.</summary>
    public static DurableTail Open(string path) => OpenExisting(path, FileAccess.ReadWrite, FileShare.Read);

    private static DurableTail OpenExisting(string path, FileAccess access, FileShare share)
    {
        var handle = File.OpenHandle(path, FileMode.Open, access, share);
        var t = new DurableTail(path, handle, 0);
        try
        {
            t._sequence = t.ReadNewest().Sequence;
        }
        catch
        {
            t.Dispose();
            throw;
        }
        return t;
    }

    /// <summary>Opens an existing record file for reading only (a read-only database; <see cref="Record"/> then fails).</summary>
    public static DurableTail OpenRead(string path) => OpenExisting(path, FileAccess.Read, FileShare.ReadWrite);

    /// <summary>The newest valid (begin, durable) pair, or a <see cref="StoreCorruptedException"/> naming the file.</summary>
    public (long Begin, long Durable) Read()
    {
        var r = ReadNewest();
        return (r.Begin, r.Durable);
    }

    private (ulong Sequence, long Begin, long Durable) ReadNewest()
    {
        var buf = new byte[2 * SlotSize];
        int n = RandomAccess.Read(_handle, buf, 0);
        (ulong, long, long)? best = null;
        for (int s = 0; s < 2; s++)
        {
            if (n < (s + 1) * SlotSize) break;
            var slot = buf.AsSpan(s * SlotSize, SlotSize);
            if (BinaryPrimitives.ReadUInt64LittleEndian(slot) != Magic || !Checksums.CheckCrc(slot[..36])) continue;
            ulong seq = BinaryPrimitives.ReadUInt64LittleEndian(slot[8..]);
            long begin = BinaryPrimitives.ReadInt64LittleEndian(slot[16..]);
            long durable = BinaryPrimitives.ReadInt64LittleEndian(slot[24..]);
            if (best is null || seq > best.Value.Item1) best = (seq, begin, durable);
        }
        return best ?? throw new StoreCorruptedException(Path, "durable-tail record has no valid slot (truncated or damaged)");
    }

    /// <summary>Durably records that the log spans [<paramref name="begin"/>, <paramref name="durable"/>).</summary>
    public void Record(long begin, long durable)
    {
        _sequence++;
        Span<byte> slot = stackalloc byte[SlotSize];
        slot.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(slot, Magic);
        BinaryPrimitives.WriteUInt64LittleEndian(slot[8..], _sequence);
        BinaryPrimitives.WriteInt64LittleEndian(slot[16..], begin);
        BinaryPrimitives.WriteInt64LittleEndian(slot[24..], durable);
        Checksums.WriteCrc(slot, 32);
        RandomAccess.Write(_handle, slot, (long)(_sequence % 2) * SlotSize);
        RandomAccess.FlushToDisk(_handle);
    }

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();
}
