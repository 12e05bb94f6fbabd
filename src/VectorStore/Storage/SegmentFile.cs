using System.Buffers.Binary;
using System.IO.Hashing;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace VectorStore.Storage;

/// <summary>
/// One sealed, immutable segment file <c>seg-NNNNNNNNNN.vsg</c> (data-format.md §4.8): a 4 KiB header, the
/// full-precision vectors row by row from offset 4096 (page-aligned, memory-mapped for reading), a row table
/// (<c>u64 id</c>, <c>u32</c> CRC-32 of the row's vector bytes) and a footer with the row count, the sequence number
/// and an xxHash64 of the row table. Opening verifies header, footer and row table; each vector row is verified
/// against its CRC when it is read from the mapping (or, for a resident collection, when it is loaded), so damage
/// is a <see cref="StoreCorruptedException"/> naming the file and row, never a wrong answer.
/// Thread-safety: an open segment is immutable; reads run concurrently. <see cref="Dispose"/> must not race reads
/// (the collection disposes under its write lock).
/// </summary>
internal sealed unsafe class SegmentFile : IDisposable
{
    public const uint FormatVersion = 1;
    public const int HeaderSize = 4096;
    public const int RowEntrySize = 12;
    public const int FooterSize = 40;
    private static ReadOnlySpan<byte> Magic => "VSSEGMNT"u8;
    private static ReadOnlySpan<byte> EndMagic => "VSSEGEND"u8;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;
    // Unmapped segments (RAM residency) keep the row CRCs for ReadAll; mapped ones read each CRC from the mapped row
    // table, which open verified against the footer's hash, so disk residency holds no per-row memory here.
    private readonly uint[]? _crcs;
    private readonly byte* _table;
    private readonly int _rowBytes;

    private SegmentFile(string path, int sequence, int dimension, int rows, uint[]? crcs, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* basePtr)
    {
        Path = path;
        Sequence = sequence;
        Dimension = dimension;
        Rows = rows;
        LiveRows = rows;
        _crcs = crcs;
        _map = map;
        _view = view;
        _base = basePtr;
        _rowBytes = dimension * sizeof(float);
        _table = basePtr == null ? null : basePtr + HeaderSize + (long)rows * _rowBytes;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Sequence number (names the file; unique within the collection).</summary>
    public int Sequence { get; }

    /// <summary>Values per vector.</summary>
    public int Dimension { get; }

    /// <summary>Rows written.</summary>
    public int Rows { get; }

    /// <summary>Rows still referenced by a live slot (maintained by <see cref="SegmentedVectors"/> under its writer's lock).</summary>
    public int LiveRows { get; set; }

    /// <summary>Bytes of the file.</summary>
    public long FileBytes => FileLength(Rows, Dimension);

    /// <summary>Bytes this segment holds in the process's memory (the per-row CRCs when unmapped; a mapping is page cache).</summary>
    public long ResidentBytes => (long)(_crcs?.Length ?? 0) * sizeof(uint);

    /// <summary>The file name of segment <paramref name="sequence"/>.</summary>
    public static string FileName(int sequence) => $"seg-{sequence:D10}.vsg";

    private static long FileLength(int rows, int dimension) => HeaderSize + (long)rows * dimension * sizeof(float) + (long)rows * RowEntrySize + FooterSize;

    /// <summary>
    /// Writes and fsyncs segment <paramref name="sequence"/> in <paramref name="directory"/> (temporary file, fsync,
    /// rename, directory fsync) with the rows <paramref name="rowVector"/>(0..rows-1) and their ids.
    /// </summary>
    public static string Write(string directory, int sequence, int dimension, int rows, Func<int, ReadOnlySpan<float>> rowVector, Func<int, ulong> rowId)
    {
        string path = System.IO.Path.Combine(directory, FileName(sequence));
        string tmp = path + ".tmp";
        var table = new byte[(long)rows * RowEntrySize];
        using (var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            var header = new byte[HeaderSize];
            Magic.CopyTo(header);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), FormatVersion);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(12), dimension);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(16), sequence);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(20), rows);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(24), HeaderSize);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(32), (long)rows * dimension * sizeof(float));
            Checksums.WriteCrc(header, 40);
            file.Write(header);
            for (int r = 0; r < rows; r++)
            {
                var v = rowVector(r);
                if (v.Length != dimension) throw new InvalidOperationException($"segment row {r} has {v.Length} values, expected {dimension}");
                var bytes = MemoryMarshal.AsBytes(v);
                file.Write(bytes);
                BinaryPrimitives.WriteUInt64LittleEndian(table.AsSpan(r * RowEntrySize), rowId(r));
                BinaryPrimitives.WriteUInt32LittleEndian(table.AsSpan(r * RowEntrySize + 8), Checksums.Crc(bytes));
            }
            file.Write(table);
            file.Write(Footer(table, sequence, rows));
            file.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
        FileDurability.FsyncDirectory(directory);
        return path;
    }

    private static byte[] Footer(ReadOnlySpan<byte> table, int sequence, int rows)
    {
        var footer = new byte[FooterSize];
        BinaryPrimitives.WriteUInt64LittleEndian(footer, XxHash64.HashToUInt64(table));
        BinaryPrimitives.WriteInt32LittleEndian(footer.AsSpan(8), sequence);
        BinaryPrimitives.WriteInt32LittleEndian(footer.AsSpan(12), rows);
        BinaryPrimitives.WriteInt64LittleEndian(footer.AsSpan(16), FileLength(rows, 0)); // header + table + footer: a length check independent of the dimension
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
        long expected = FileLength(rows, dimension);
        uint[] crcs;
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
        {
            if (file.Length != expected) throw new StoreCorruptedException(path, $"segment is {file.Length} bytes, expected {expected} for {rows} rows of dimension {dimension}");
            var header = new byte[64];
            file.ReadExactly(header);
            if (!header.AsSpan(0, 8).SequenceEqual(Magic)) throw new StoreCorruptedException(path, "not a segment (bad magic)");
            if (!Checksums.CheckCrc(header.AsSpan(0, 44))) throw new StoreCorruptedException(path, "segment header checksum mismatch");
            uint version = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8));
            if (version > FormatVersion) throw new StoreCorruptedException(path, $"segment format version {version} is newer than this build supports ({FormatVersion})");
            if (BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(12)) != dimension || BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(16)) != sequence
                || BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(20)) != rows)
                throw new StoreCorruptedException(path, "segment header disagrees with the snapshot (dimension, sequence or rows)");
            var table = new byte[(long)rows * RowEntrySize];
            file.Position = HeaderSize + (long)rows * dimension * sizeof(float);
            file.ReadExactly(table);
            var footer = new byte[FooterSize];
            file.ReadExactly(footer);
            if (!footer.AsSpan(32).SequenceEqual(EndMagic) || !Checksums.CheckCrc(footer.AsSpan(0, 28)))
                throw new StoreCorruptedException(path, "segment footer damaged");
            if (!footer.AsSpan().SequenceEqual(Footer(table, sequence, rows))) throw new StoreCorruptedException(path, "segment row table checksum mismatch");
            ids = new ulong[rows];
            for (int r = 0; r < rows; r++) ids[r] = BinaryPrimitives.ReadUInt64LittleEndian(table.AsSpan(r * RowEntrySize));
            if (!map || rows == 0)
            {
                crcs = new uint[rows];
                for (int r = 0; r < rows; r++) crcs[r] = BinaryPrimitives.ReadUInt32LittleEndian(table.AsSpan(r * RowEntrySize + 8));
                return new SegmentFile(path, sequence, dimension, rows, crcs, null, null, null);
            }
        }
        var mmf = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = mmf.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        p += view.PointerOffset;
        // Re-rank reads are random rows: read-ahead would fill the page cache (and a memory cgroup) with neighbours.
        PageAdvice.Random(p, expected);
        return new SegmentFile(path, sequence, dimension, rows, null, mmf, view, p);
    }

    /// <summary>Whether the rows are readable through the mapping.</summary>
    public bool Mapped => _base != null;

    /// <summary>Row <paramref name="row"/> from the mapping, verified against its CRC.</summary>
    public ReadOnlySpan<float> Row(int row)
    {
        var bytes = new ReadOnlySpan<byte>(_base + HeaderSize + (long)row * _rowBytes, _rowBytes);
        if (Checksums.Crc(bytes) != BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(_table + (long)row * RowEntrySize + 8, sizeof(uint)))) throw new StoreCorruptedException(Path, $"segment row {row} checksum mismatch");
        return MemoryMarshal.Cast<byte, float>(bytes);
    }

    /// <summary>Asks the kernel to read row <paramref name="row"/> ahead of use (one query's candidates are requested together).</summary>
    public void WillNeed(int row) => PageAdvice.WillNeed(_base + HeaderSize + (long)row * _rowBytes, _rowBytes);

    /// <summary>Reads every row with positional reads (no mapping), verifying each CRC: loading a resident collection.</summary>
    public void ReadAll(Action<int, ReadOnlySpan<float>> sink)
    {
        if (_crcs is null) throw new InvalidOperationException("ReadAll reads an unmapped segment");
        using var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        file.Position = HeaderSize;
        var buffer = new byte[_rowBytes];
        for (int r = 0; r < Rows; r++)
        {
            file.ReadExactly(buffer);
            if (Checksums.Crc(buffer) != _crcs[r]) throw new StoreCorruptedException(Path, $"segment row {r} checksum mismatch");
            sink(r, MemoryMarshal.Cast<byte, float>(buffer.AsSpan()));
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
