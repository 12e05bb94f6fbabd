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
        try
        {
            if (!exists && !readOnly) RandomAccess.Write(_handle, new byte[2 * SlotSize], 0);
            // Write next over the older (or an invalid) slot so the newest valid commit survives a torn write.
            var valid = ValidSlots().OrderByDescending(v => v.Num).Select(v => v.Slot).ToList();
            _nextSlot = valid.Count == 0 ? 0 : 1 - valid[0];
        }
        catch
        {
            _handle.Dispose();
            throw;
        }
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

    /// <summary>Test-only fault hook (<see cref="DeviceFaults.FailCommitSlots"/>); null in production.</summary>
    public DeviceFaults? Faults { get; set; }

    /// <summary>
    /// The first failure to make a commit durable here (fsyncing the log's data or writing the slot), or null. The
    /// owner turns it into the log's failure when it next publishes a commit (FasterWriteAheadLog.PublishDurable).
    /// </summary>
    /// <remarks>
    /// Not thrown to FASTER: 2.6.5 calls <see cref="Commit"/> from its commit worker (FasterLog.WriteCommitMetadata),
    /// and an exception there escapes the worker without completing the commit's task, so every writer waiting for
    /// that commit waited forever (measured: a thrown slot-write fault hung the writer at 100 % CPU). FASTER then
    /// believes the range committed, which it is not on disk: nothing may take its committed address for durable
    /// while this is set.
    /// </remarks>
    public Exception? Failure => Volatile.Read(ref _failure);

    /// <summary>With <see cref="Failure"/>: this file when writing the slot failed, null when fsyncing the log's data did.</summary>
    public string? FailedPath { get; private set; }

    private Exception? _failure;

    public void Commit(long beginAddress, long untilAddress, byte[] commitMetadata, long commitNum, bool forceWriteMetadata)
    {
        if (Failure is not null) return;
        // Nothing may escape into FASTER's commit worker (see Failure), not even running out of memory.
        try { BeforeCommit?.Invoke(untilAddress); }
        catch (Exception e)
        {
            Volatile.Write(ref _failure, e);
            return;
        }
        CrashPoints.Reach(CrashPoints.SegmentsSynced);
        AttemptedUntil = Math.Max(AttemptedUntil, untilAddress);
        try { WriteSlot(commitMetadata, commitNum); }
        catch (Exception e)
        {
            FailedPath = Path;
            Volatile.Write(ref _failure, e);
        }
    }

    private void WriteSlot(byte[] commitMetadata, long commitNum)
    {
        if (HeaderSize + commitMetadata.Length + 4 > SlotSize)
            throw new InvalidOperationException($"FASTER commit metadata of {commitMetadata.Length} bytes exceeds the {SlotSize}-byte slot");
        if (Faults?.TakeCommitSlotFault() == true) throw new IOException("injected fault: the commit slot was not written");
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
