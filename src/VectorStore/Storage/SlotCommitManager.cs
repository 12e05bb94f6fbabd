using System.Buffers.Binary;
using FASTER.core;
using Microsoft.Win32.SafeHandles;

namespace VectorStore.Storage;

/// <summary>
/// FASTER commit metadata kept in one pre-allocated file (<c>wal/wal.commit</c>) of two checksummed slots written
/// alternately and fsynced, instead of FASTER's default of one new unchecksummed, never-fsynced file per commit.
/// A commit then costs one in-place write + fsync (no file creation, deletion or directory fsync), and a damaged
/// or empty slot is detected by its CRC rather than silently recovering an empty log.
/// Thread-safety: FASTER serializes commits; reads happen during recovery only.
/// </summary>
internal sealed class SlotCommitManager : ILogCommitManager
{
    public const string FileName = "wal.commit";
    public const int SlotSize = 4096;
    private const ulong Magic = 0x314D4D4F43535600; // "\0VSCOMM1" little-endian
    private const int HeaderSize = 8 + 8 + 4;
    private readonly SafeFileHandle _handle;
    private int _nextSlot;

    /// <summary>Opens (creating, unless <paramref name="readOnly"/>) the commit file; read-only never writes it.</summary>
    public SlotCommitManager(string path, bool readOnly = false)
    {
        Path = path;
        bool exists = File.Exists(path);
        _handle = readOnly
            ? File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite)
            : File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        if (!exists && !readOnly) RandomAccess.Write(_handle, new byte[2 * SlotSize], 0);
        // Write next over the older (or an invalid) slot so the newest valid commit survives a torn write.
        var valid = ValidSlots().OrderByDescending(v => v.Num).Select(v => v.Slot).ToList();
        _nextSlot = valid.Count == 0 ? 0 : 1 - valid[0];
    }

    /// <summary>The commit file.</summary>
    public string Path { get; }

    /// <summary>
    /// Called with the commit's until-address before its metadata is written, to make the log data durable first:
    /// metadata must never claim data a power cut could still lose.
    /// </summary>
    public Action<long>? BeforeCommit { get; set; }

    /// <summary>
    /// The until-address of the last commit whose metadata this manager started writing (its data was fsynced):
    /// after a failed write it may be on disk even though the commit reported an error.
    /// </summary>
    public long AttemptedUntil { get; private set; }

    public void Commit(long beginAddress, long untilAddress, byte[] commitMetadata, long commitNum, bool forceWriteMetadata)
    {
        if (HeaderSize + commitMetadata.Length + 4 > SlotSize)
            throw new InvalidOperationException($"FASTER commit metadata of {commitMetadata.Length} bytes exceeds the {SlotSize}-byte slot");
        BeforeCommit?.Invoke(untilAddress);
        CrashPoints.Reach(CrashPoints.SegmentsSynced);
        AttemptedUntil = Math.Max(AttemptedUntil, untilAddress);
        var slot = new byte[SlotSize];
        BinaryPrimitives.WriteUInt64LittleEndian(slot, Magic);
        BinaryPrimitives.WriteInt64LittleEndian(slot.AsSpan(8), commitNum);
        BinaryPrimitives.WriteInt32LittleEndian(slot.AsSpan(16), commitMetadata.Length);
        commitMetadata.CopyTo(slot, HeaderSize);
        Checksums.WriteCrc(slot, HeaderSize + commitMetadata.Length);
        RandomAccess.Write(_handle, slot, (long)_nextSlot * SlotSize);
        RandomAccess.FlushToDisk(_handle);
        _nextSlot = 1 - _nextSlot;
    }

    private IEnumerable<(long Num, byte[] Metadata, int Slot)> ValidSlots()
    {
        var buf = new byte[2 * SlotSize];
        int n = RandomAccess.Read(_handle, buf, 0);
        for (int s = 0; s < 2; s++)
        {
            if (n < (s + 1) * SlotSize) yield break;
            var slot = buf.AsSpan(s * SlotSize, SlotSize);
            if (BinaryPrimitives.ReadUInt64LittleEndian(slot) != Magic) continue;
            int len = BinaryPrimitives.ReadInt32LittleEndian(slot[16..]);
            if (len < 0 || HeaderSize + len + 4 > SlotSize || !Checksums.CheckCrc(slot[..(HeaderSize + len + 4)])) continue;
            yield return (BinaryPrimitives.ReadInt64LittleEndian(slot[8..]), slot.Slice(HeaderSize, len).ToArray(), s);
        }
    }

    public IEnumerable<long> ListCommits() => ValidSlots().Select(s => s.Num).OrderDescending().ToArray();

    public byte[] GetCommitMetadata(long commitNum)
    {
        foreach (var (num, metadata, _) in ValidSlots())
            if (num == commitNum) return metadata;
        return null!;
    }

    public void RemoveCommit(long commitNum) { }

    public void RemoveAllCommits() { }

    public void OnRecovery(long commitNum) { }

    public void Dispose() => _handle.Dispose();
}
