using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using VectorStore.Distance;

namespace VectorStore.Storage;

/// <summary>
/// One sealed, immutable segment file <c>seg-NNNNNNNNNN.vsg</c> (data-format.md §4.8): a 4 KiB header, the
/// full-precision vectors row by row from offset 4096 (page-aligned, memory-mapped for reading), the rows' payloads
/// (format 2), a row table (<c>u64 id</c>, CRC-32 of the row's vector bytes; format 2 adds the payload's length, offset
/// and CRC-32) and a footer with the row count, the sequence number and an xxHash64 of the row table. Opening verifies
/// header, footer and row table; each vector row and payload is verified against its CRC when it is read from the
/// mapping (or, for a resident collection, when it is loaded), so damage is a <see cref="StoreCorruptedException"/>
/// naming the file and row, never a wrong answer. Format 1 files (no payloads) are still read.
/// Thread-safety: an open segment is immutable; reads run concurrently. <see cref="Dispose"/> must not race reads
/// (the collection disposes under its write lock).
/// </summary>
internal sealed unsafe class SegmentFile : IDisposable
{
    public const uint FormatVersion = 2;
    public const int HeaderSize = 4096;
    /// <summary>Row-table entry of format 1: id, vector CRC.</summary>
    public const int RowEntrySizeV1 = 12;
    /// <summary>Row-table entry of format 2: id, vector CRC, payload length, payload offset, payload CRC.</summary>
    public const int RowEntrySize = 28;
    public const int FooterSize = 40;
    private static ReadOnlySpan<byte> Magic => "VSSEGMNT"u8;
    private static ReadOnlySpan<byte> EndMagic => "VSSEGEND"u8;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;
    // Mapped segments read each entry from the mapped row table, which open verified against the footer's hash;
    // unmapped ones (RAM residency) re-read and re-verify it in ReadAll. Neither holds per-row memory.
    private readonly ulong _tableHash;
    private readonly byte* _table;
    private readonly int _rowBytes;
    private readonly int _entrySize;
    private readonly long _payloadsOffset;

    private SegmentFile(string path, int sequence, int dimension, int rows, uint version, long payloadBytes, ulong tableHash, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* basePtr)
    {
        Path = path;
        Sequence = sequence;
        Dimension = dimension;
        Rows = rows;
        LiveRows = rows;
        Version = version;
        PayloadBytes = payloadBytes;
        _tableHash = tableHash;
        _map = map;
        _view = view;
        _base = basePtr;
        _rowBytes = dimension * sizeof(float);
        _entrySize = version >= 2 ? RowEntrySize : RowEntrySizeV1;
        _payloadsOffset = HeaderSize + (long)rows * _rowBytes;
        _table = basePtr == null ? null : basePtr + _payloadsOffset + payloadBytes;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Sequence number (names the file; unique within the collection).</summary>
    public int Sequence { get; }

    /// <summary>Values per vector.</summary>
    public int Dimension { get; }

    /// <summary>Rows written.</summary>
    public int Rows { get; }

    /// <summary>The file's format version (1: vectors only; 2: with payloads).</summary>
    public uint Version { get; }

    /// <summary>Bytes of the payload region (0 in format 1).</summary>
    public long PayloadBytes { get; }

    /// <summary>Rows still referenced by a live slot (maintained by <see cref="SegmentedVectors"/> under its writer's lock).</summary>
    public int LiveRows { get; set; }

    /// <summary>Bytes of the file.</summary>
    public long FileBytes => FileLength(Version, Rows, Dimension, PayloadBytes);

    /// <summary>The file name of segment <paramref name="sequence"/>.</summary>
    public static string FileName(int sequence) => $"seg-{sequence:D10}.vsg";

    private static int EntrySize(uint version) => version >= 2 ? RowEntrySize : RowEntrySizeV1;

    private static int HeaderCrcEnd(uint version) => version >= 2 ? 48 : 40;

    private static long FileLength(uint version, int rows, int dimension, long payloadBytes) =>
        HeaderSize + (long)rows * dimension * sizeof(float) + payloadBytes + (long)rows * EntrySize(version) + FooterSize;

    /// <summary>
    /// Writes and fsyncs segment <paramref name="sequence"/> in <paramref name="directory"/> (temporary file, fsync,
    /// rename, directory fsync) with the rows <paramref name="rowVector"/>(0..rows-1), their ids and payloads
    /// (<paramref name="rowPayload"/>, null or empty: none; at most <see cref="MaxRows"/> rows).
    /// </summary>
    /// <remarks>
    /// Each payload is copied once into a reused buffer, and its CRC and the written bytes both come from that copy:
    /// a caller changing its array meanwhile cannot make the file disagree with itself, and a merge never holds more
    /// than one payload at a time. The header, which records the payload region's length, is written last.
    /// </remarks>
    public static string Write(string directory, int sequence, int dimension, int rows, Func<int, ReadOnlySpan<float>> rowVector, Func<int, ulong> rowId, Func<int, byte[]?> rowPayload)
    {
        if (rows > MaxRows) throw new ArgumentOutOfRangeException(nameof(rows), $"a segment holds at most {MaxRows} rows");
        string path = System.IO.Path.Combine(directory, FileName(sequence));
        var table = new byte[(long)rows * RowEntrySize];
        long payloadBytes = 0;
        FileDurability.Replace(path, tmp =>
        {
            using var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            var header = new byte[HeaderSize];
            file.Write(header); // placeholder: rewritten once the payload region's length is known
            for (int r = 0; r < rows; r++)
            {
                var v = rowVector(r);
                if (v.Length != dimension) throw new InvalidOperationException($"segment row {r} has {v.Length} values, expected {dimension}");
                var bytes = MemoryMarshal.AsBytes(v);
                file.Write(bytes);
                var entry = table.AsSpan(r * RowEntrySize, RowEntrySize);
                BinaryPrimitives.WriteUInt64LittleEndian(entry, rowId(r));
                BinaryPrimitives.WriteUInt32LittleEndian(entry[8..], Checksums.Crc(bytes));
            }
            byte[] copy = [];
            for (int r = 0; r < rows; r++)
            {
                var p = rowPayload(r);
                int length = p?.Length ?? 0;
                var entry = table.AsSpan(r * RowEntrySize, RowEntrySize);
                BinaryPrimitives.WriteInt32LittleEndian(entry[12..], length);
                BinaryPrimitives.WriteInt64LittleEndian(entry[16..], length == 0 ? 0 : payloadBytes);
                if (length == 0) continue;
                if (copy.Length < length) copy = new byte[Math.Max(length, copy.Length * 2)];
                p.AsSpan().CopyTo(copy);
                BinaryPrimitives.WriteUInt32LittleEndian(entry[24..], Checksums.Crc(copy.AsSpan(0, length)));
                file.Write(copy, 0, length);
                payloadBytes += length;
            }
            file.Write(table);
            file.Write(Footer(table, FormatVersion, sequence, rows, payloadBytes));
            Magic.CopyTo(header);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), FormatVersion);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(12), dimension);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(16), sequence);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(20), rows);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(24), HeaderSize);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(32), (long)rows * dimension * sizeof(float));
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(40), payloadBytes);
            Checksums.WriteCrc(header, HeaderCrcEnd(FormatVersion));
            file.Position = 0;
            file.Write(header);
            file.Flush(flushToDisk: true);
        });
        return path;
    }

    /// <summary>
    /// Rows one segment may hold: its row table is one array (.NET arrays stop near 2³¹ bytes, 28 bytes a row), and
    /// sealing splits larger sets across segments.
    /// </summary>
    public const int MaxRows = 1 << 24;

    private static byte[] Footer(ReadOnlySpan<byte> table, uint version, int sequence, int rows, long payloadBytes)
    {
        var footer = new byte[FooterSize];
        BinaryPrimitives.WriteUInt64LittleEndian(footer, XxHash64.HashToUInt64(table));
        BinaryPrimitives.WriteInt32LittleEndian(footer.AsSpan(8), sequence);
        BinaryPrimitives.WriteInt32LittleEndian(footer.AsSpan(12), rows);
        // The file length without the vectors: a length check independent of the dimension.
        BinaryPrimitives.WriteInt64LittleEndian(footer.AsSpan(16), FileLength(version, rows, 0, payloadBytes));
        Checksums.WriteCrc(footer, 24);
        EndMagic.CopyTo(footer.AsSpan(32));
        return footer;
    }

    /// <summary>
    /// Opens and verifies segment <paramref name="sequence"/> (expected to hold <paramref name="rows"/> rows);
    /// maps it for reading when <paramref name="map"/>. Any damage is a <see cref="StoreCorruptedException"/> naming the file.
    /// </summary>
    public static SegmentFile Open(string directory, int sequence, int dimension, int rows, bool map, out ulong[] ids)
    {
        string path = System.IO.Path.Combine(directory, FileName(sequence));
        if (!File.Exists(path)) throw new StoreCorruptedException(path, "segment named in the snapshot is missing");
        uint version;
        long payloadBytes, expected;
        byte[] table;
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
        {
            var header = new byte[64];
            if (file.Length < HeaderSize + FooterSize) throw new StoreCorruptedException(path, $"segment is {file.Length} bytes, shorter than a header and footer");
            file.ReadExactly(header);
            if (!header.AsSpan(0, 8).SequenceEqual(Magic)) throw new StoreCorruptedException(path, "not a segment (bad magic)");
            version = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8));
            // The version is read before the CRC, which it decides the extent of; a damaged version fails one or the other.
            // The version decides the header CRC's extent, so it is judged first; a damaged one is refused just the same.
            if (version is 0 || version > FormatVersion)
                throw new StoreCorruptedException(path, $"segment format version {version} is not supported by this build (1..{FormatVersion}): a newer build wrote it, or its header is damaged");
            if (!Checksums.CheckCrc(header.AsSpan(0, HeaderCrcEnd(version) + 4))) throw new StoreCorruptedException(path, "segment header checksum mismatch");
            if (BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(12)) != dimension || BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(16)) != sequence
                || BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(20)) != rows)
                throw new StoreCorruptedException(path, "segment header disagrees with the snapshot (dimension, sequence or rows)");
            payloadBytes = version >= 2 ? BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(40)) : 0;
            if (payloadBytes < 0) throw new StoreCorruptedException(path, $"segment payload length {payloadBytes} is invalid");
            expected = FileLength(version, rows, dimension, payloadBytes);
            if (file.Length != expected) throw new StoreCorruptedException(path, $"segment is {file.Length} bytes, expected {expected} for {rows} rows of dimension {dimension}");
            table = new byte[(long)rows * EntrySize(version)];
            file.Position = HeaderSize + (long)rows * dimension * sizeof(float) + payloadBytes;
            file.ReadExactly(table);
            var footer = new byte[FooterSize];
            file.ReadExactly(footer);
            if (!footer.AsSpan(32).SequenceEqual(EndMagic) || !Checksums.CheckCrc(footer.AsSpan(0, 28)))
                throw new StoreCorruptedException(path, "segment footer damaged");
            if (!footer.AsSpan().SequenceEqual(Footer(table, version, sequence, rows, payloadBytes))) throw new StoreCorruptedException(path, "segment row table checksum mismatch");
        }
        int entry = EntrySize(version);
        ids = new ulong[rows];
        for (int r = 0; r < rows; r++)
        {
            var e = table.AsSpan(r * entry, entry);
            ids[r] = BinaryPrimitives.ReadUInt64LittleEndian(e);
            if (version < 2) continue;
            // A payload must lie inside the payload region: the table's hash matched, so this only fails for a file
            // written wrongly, but a read through the mapping must never leave it.
            int length = BinaryPrimitives.ReadInt32LittleEndian(e[12..]);
            long offset = BinaryPrimitives.ReadInt64LittleEndian(e[16..]);
            if (length < 0 || offset < 0 || offset > payloadBytes - length)
                throw new StoreCorruptedException(path, $"segment row {r} names payload bytes [{offset}, {offset}+{length}) outside the payload region of {payloadBytes}");
        }
        ulong tableHash = XxHash64.HashToUInt64(table);
        if (!map || rows == 0) return new SegmentFile(path, sequence, dimension, rows, version, payloadBytes, tableHash, null, null, null);
        MemoryMappedFile? mmf = null;
        MemoryMappedViewAccessor? view = null;
        byte* p = null;
        try
        {
            mmf = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            view = mmf.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        }
        catch (Exception e)
        {
            // A mapping the system refuses (the process's map count or address space spent) must not keep the file
            // open, and says nothing about the file's bytes: an I/O error naming it, not corruption.
            Closing.All($"mapping {path}", view, mmf);
            if (e is IOException or UnauthorizedAccessException) throw new StorageIoException(path, $"mapping the segment failed: {e.Message}", e);
            throw;
        }
        p += view.PointerOffset;
        // Re-rank reads are random rows: read-ahead would fill the page cache (and a memory cgroup) with neighbours.
        PageAdvice.Random(p, expected);
        return new SegmentFile(path, sequence, dimension, rows, version, payloadBytes, tableHash, mmf, view, p);
    }

    /// <summary>Whether the rows are readable through the mapping.</summary>
    public bool Mapped => _base != null;

    private ReadOnlySpan<byte> Entry(int row) => new(_table + (long)row * _entrySize, _entrySize);

    /// <summary>Row <paramref name="row"/> from the mapping, verified against its CRC.</summary>
    public ReadOnlySpan<float> Row(int row)
    {
        var bytes = new ReadOnlySpan<byte>(_base + HeaderSize + (long)row * _rowBytes, _rowBytes);
        if (Checksums.Crc(bytes) != BinaryPrimitives.ReadUInt32LittleEndian(Entry(row)[8..])) throw new StoreCorruptedException(Path, $"segment row {row} checksum mismatch");
        return MemoryMarshal.Cast<byte, float>(bytes);
    }

    /// <summary>Length of the payload a format-2 row-table entry names (0: none).</summary>
    private static int PayloadLength(ReadOnlySpan<byte> entry) => BinaryPrimitives.ReadInt32LittleEndian(entry[12..]);

    /// <summary>Row <paramref name="row"/>'s payload from the mapping (a copy; null when it has none), verified against its CRC.</summary>
    public byte[]? Payload(int row)
    {
        if (!Mapped) throw new InvalidOperationException("payloads of an unmapped segment are read by ReadAll");
        if (Version < 2) return null;
        var e = Entry(row);
        int length = PayloadLength(e);
        if (length == 0) return null;
        // Copied first and the copy checked: what is returned is exactly what passed the check.
        var copy = new ReadOnlySpan<byte>(_base + _payloadsOffset + BinaryPrimitives.ReadInt64LittleEndian(e[16..]), length).ToArray();
        if (Checksums.Crc(copy) != BinaryPrimitives.ReadUInt32LittleEndian(e[24..])) throw new StoreCorruptedException(Path, $"segment row {row} payload checksum mismatch");
        return copy;
    }

    /// <summary>
    /// Asks the CPU for row <paramref name="row"/> and its table entry into L2. A prefetch never faults, so a page not
    /// mapped in yet costs nothing but the lost hint. With the page cache warm, a re-rank read is a DRAM miss like a
    /// resident one, and the row's checksum was paying for it one line at a time.
    /// </summary>
    public void PrefetchRow(int row)
    {
        if (!Mapped) return;
        CachePrefetch.ToL2(ref *(_base + HeaderSize + (long)row * _rowBytes), _rowBytes);
        CachePrefetch.ToL2(ref *(_table + (long)row * _entrySize), _entrySize);
    }

    /// <summary>Asks the kernel to read row <paramref name="row"/> ahead of use (one query's candidates are requested together).</summary>
    public void WillNeed(int row) => PageAdvice.WillNeed(_base + HeaderSize + (long)row * _rowBytes, _rowBytes);

    /// <summary>
    /// Reads every row and its payload with positional reads (no mapping), verifying the row table again and each
    /// CRC: loading a resident collection. <paramref name="payloadSink"/> gets the payloads of the rows
    /// <paramref name="wanted"/> admits (dead rows' are skipped).
    /// </summary>
    public void ReadAll(Action<int, ReadOnlySpan<float>> sink, Func<int, bool>? wanted = null, Action<int, byte[]>? payloadSink = null)
    {
        if (Mapped) throw new InvalidOperationException("ReadAll reads an unmapped segment");
        using var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var table = new byte[(long)Rows * _entrySize];
        file.Position = _payloadsOffset + PayloadBytes;
        file.ReadExactly(table);
        if (XxHash64.HashToUInt64(table) != _tableHash) throw new StoreCorruptedException(Path, "segment row table changed since it was opened");
        file.Position = HeaderSize;
        var buffer = new byte[_rowBytes];
        for (int r = 0; r < Rows; r++)
        {
            file.ReadExactly(buffer);
            if (Checksums.Crc(buffer) != BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(r * _entrySize + 8))) throw new StoreCorruptedException(Path, $"segment row {r} checksum mismatch");
            sink(r, MemoryMarshal.Cast<byte, float>(buffer.AsSpan()));
        }
        if (payloadSink is null || PayloadBytes == 0) return;
        for (int r = 0; r < Rows; r++)
        {
            var e = table.AsSpan(r * _entrySize, _entrySize);
            int length = PayloadLength(e);
            if (length == 0 || (wanted is not null && !wanted(r))) continue;
            var payload = new byte[length];
            file.Position = _payloadsOffset + BinaryPrimitives.ReadInt64LittleEndian(e[16..]);
            file.ReadExactly(payload);
            if (Checksums.Crc(payload) != BinaryPrimitives.ReadUInt32LittleEndian(e[24..])) throw new StoreCorruptedException(Path, $"segment row {r} payload checksum mismatch");
            payloadSink(r, payload);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
    }
}
