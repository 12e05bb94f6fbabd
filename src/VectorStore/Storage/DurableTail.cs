using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace VectorStore.Storage;

/// <summary>
/// Our own checksummed, fsynced record of the log's begin and last durable address (file <c>wal.tail</c>), written
/// after every commit. FASTER's commit metadata is not trusted alone (an empty newest commit file makes it reopen an
/// empty log; its checksum is not verified). Two slots are written alternately so a torn write leaves the previous
/// record intact. Version 2 (64-byte slots) also records the log's chain position (<see cref="LogFraming.Point"/>)
/// at the begin and at the durable address, so replay can prove it read every acknowledged entry; a version-1 file
/// (40-byte slots) belongs to a log written before the framing existed and is read, never written, until
/// <see cref="Upgrade"/> replaces it. Thread-safety: callers serialize <see cref="Record"/> (the log's commit gate).
/// </summary>
internal sealed class DurableTail : IDisposable
{
    public const string FileName = "wal.tail";
    private const ulong MagicV1 = 0x314C494154535600; // "\0VSTAIL1" little-endian
    private const ulong MagicV2 = 0x324C494154535600; // "\0VSTAIL2" little-endian
    private const int SlotV1 = 40, SlotV2 = 64;
    private SafeFileHandle _handle;
    private ulong _sequence;

    private DurableTail(string path, SafeFileHandle handle)
    {
        Path = path;
        _handle = handle;
    }

    /// <summary>The record's file.</summary>
    public string Path { get; }

    /// <summary>Creates a fresh (version 2) record file; the caller records the initial addresses.</summary>
    public static DurableTail Create(string path)
    {
        var handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            RandomAccess.Write(handle, new byte[2 * SlotV2], 0);
        }
        catch
        {
            handle.Dispose(); // a full disk at creation must not leave the file open
            throw;
        }
        return new DurableTail(path, handle);
    }

    /// <summary>Opens an existing record file.</summary>
    public static DurableTail Open(string path) => OpenExisting(path, FileAccess.ReadWrite, FileShare.Read);

    private static DurableTail OpenExisting(string path, FileAccess access, FileShare share)
    {
        var handle = File.OpenHandle(path, FileMode.Open, access, share);
        var t = new DurableTail(path, handle);
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

    /// <summary>The newest valid record, or a <see cref="StoreCorruptedException"/> naming the file.</summary>
    public TailRecord Read() => ReadNewest().Record;

    private (ulong Sequence, TailRecord Record) ReadNewest()
    {
        var buf = new byte[2 * SlotV2];
        int n = RandomAccess.Read(_handle, buf, 0);
        (ulong Sequence, TailRecord Record)? best = null;
        for (int s = 0; s < 2; s++)
        {
            if (n < (s + 1) * SlotV2) break;
            var slot = buf.AsSpan(s * SlotV2, SlotV2);
            if (BinaryPrimitives.ReadUInt64LittleEndian(slot) != MagicV2 || !Checksums.CheckCrc(slot[..60])) continue;
            ulong seq = BinaryPrimitives.ReadUInt64LittleEndian(slot[8..]);
            var record = new TailRecord(
                BinaryPrimitives.ReadInt64LittleEndian(slot[16..]),
                new LogFraming.Point(BinaryPrimitives.ReadUInt64LittleEndian(slot[32..]), BinaryPrimitives.ReadUInt32LittleEndian(slot[48..])),
                BinaryPrimitives.ReadInt64LittleEndian(slot[24..]),
                new LogFraming.Point(BinaryPrimitives.ReadUInt64LittleEndian(slot[40..]), BinaryPrimitives.ReadUInt32LittleEndian(slot[52..])),
                Framed: true);
            if (best is null || seq > best.Value.Sequence) best = (seq, record);
        }
        if (best is null)
        {
            // A version-1 file: the log holds unframed entries.
            for (int s = 0; s < 2; s++)
            {
                if (n < (s + 1) * SlotV1) break;
                var slot = buf.AsSpan(s * SlotV1, SlotV1);
                if (BinaryPrimitives.ReadUInt64LittleEndian(slot) != MagicV1 || !Checksums.CheckCrc(slot[..36])) continue;
                ulong seq = BinaryPrimitives.ReadUInt64LittleEndian(slot[8..]);
                var record = new TailRecord(BinaryPrimitives.ReadInt64LittleEndian(slot[16..]), default,
                    BinaryPrimitives.ReadInt64LittleEndian(slot[24..]), default, Framed: false);
                if (best is null || seq > best.Value.Sequence) best = (seq, record);
            }
        }
        return best ?? throw new StoreCorruptedException(Path, "durable-tail record has no valid slot (truncated or damaged)");
    }

    /// <summary>Durably records <paramref name="record"/> (a framed log's; a version-1 file must be upgraded first).</summary>
    public void Record(TailRecord record)
    {
        if (!record.Framed) throw new InvalidOperationException("version-1 durable-tail records are read, never written");
        _sequence++;
        Span<byte> slot = stackalloc byte[SlotV2];
        Encode(slot, _sequence, record);
        RandomAccess.Write(_handle, slot, (long)(_sequence % 2) * SlotV2);
        RandomAccess.FlushToDisk(_handle);
    }

    /// <summary>
    /// Replaces a version-1 file by a version-2 one holding <paramref name="record"/>: written beside it, fsynced and
    /// renamed over it (then the directory fsynced), so a crash leaves one complete version or the other.
    /// </summary>
    public void Upgrade(TailRecord record)
    {
        string tmp = Path + ".tmp";
        var bytes = new byte[2 * SlotV2];
        Encode(bytes.AsSpan(SlotV2, SlotV2), 1, record);
        using (var h = File.OpenHandle(tmp, FileMode.Create, FileAccess.ReadWrite, FileShare.None))
        {
            RandomAccess.Write(h, bytes, 0);
            RandomAccess.FlushToDisk(h);
        }
        _handle.Dispose();
        File.Move(tmp, Path, overwrite: true);
        FileDurability.FsyncDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _handle = File.OpenHandle(Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        _sequence = 1;
    }

    private static void Encode(Span<byte> slot, ulong sequence, TailRecord r)
    {
        slot.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(slot, MagicV2);
        BinaryPrimitives.WriteUInt64LittleEndian(slot[8..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(slot[16..], r.Begin);
        BinaryPrimitives.WriteInt64LittleEndian(slot[24..], r.Durable);
        BinaryPrimitives.WriteUInt64LittleEndian(slot[32..], r.BeginPoint.Sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(slot[40..], r.DurablePoint.Sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(slot[48..], r.BeginPoint.Chain);
        BinaryPrimitives.WriteUInt32LittleEndian(slot[52..], r.DurablePoint.Chain);
        Checksums.WriteCrc(slot, 56);
    }

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();
}
