using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace VectorStore.Storage;

/// <summary>Names a prefix of a drift reservoir file: its first <see cref="Rows"/> rows and the xxHash64 of the bytes up to their end.</summary>
internal readonly record struct ReservoirFileReference(int Sequence, long Rows, ulong Hash)
{
    /// <summary>As a snapshot records it: <c>i32 sequence</c>, <c>i64 rows</c>, <c>u64 hash</c>.</summary>
    public void Write(BinaryWriter w)
    {
        w.Write(Sequence);
        w.Write(Rows);
        w.Write(Hash);
    }

    /// <summary>Reads what <see cref="Write"/> wrote.</summary>
    public static ReservoirFileReference Read(BinaryReader r) => new(r.ReadInt32(), r.ReadInt64(), r.ReadUInt64());
}

/// <summary>
/// The recent sampled vectors of the live generation's drift sensors, kept outside the snapshot so a checkpoint
/// appends the rows sampled since the previous one instead of writing the whole reservoir (about 3 MB at 384
/// dimensions, 12 MB at 1,536) every time: <c>reservoir-NNNNNNNNNN.vsr</c> (data-format.md §4.14), a 32-byte header and
/// rows of <c>dimension × f32</c> in the order they were sampled. A snapshot names a prefix (rows and hash), so rows
/// appended after it, or left half-written by a crash, never change what it reads; the reservoir is that prefix's
/// last rows. A new file (holding only the reservoir) replaces it once it would hold more than twice the reservoir.
/// Thread-safety: not thread-safe; the collection uses it under its checkpoint (upgradeable) or restore (write) lock.
/// </summary>
internal sealed class DriftReservoirFile
{
    public const uint FormatVersion = 1;
    public const int HeaderSize = 32;
    public const string Prefix = "reservoir-";
    private static ReadOnlySpan<byte> Magic => "VSRESERV"u8;

    /// <summary>The most rows a reservoir holds (<c>DriftSettings.ReservoirSize</c>'s upper bound): more are never read back.</summary>
    public const int MaxKeptRows = 1_000_000;

    private readonly string _path;
    private readonly int _dimension;
    private readonly XxHash64 _hash;

    private DriftReservoirFile(string path, int sequence, int dimension, long rows, XxHash64 hash)
    {
        _path = path;
        Sequence = sequence;
        _dimension = dimension;
        Rows = rows;
        _hash = hash;
    }

    public int Sequence { get; }

    /// <summary>Rows written so far (the prefix the next snapshot names).</summary>
    public long Rows { get; private set; }

    /// <summary>What a snapshot records for the rows written so far.</summary>
    public ReservoirFileReference Reference => new(Sequence, Rows, _hash.GetCurrentHashAsUInt64());

    /// <summary>The file name of reservoir file <paramref name="sequence"/>.</summary>
    public static string FileName(int sequence) => $"{Prefix}{sequence:D10}.vsr";

    /// <summary>Whether <paramref name="fileName"/> names a reservoir file (which grows in place, unlike the collection's other files).</summary>
    public static bool IsName(string fileName) => fileName.StartsWith(Prefix, StringComparison.Ordinal) && fileName.EndsWith(".vsr", StringComparison.Ordinal);

    /// <summary>Writes and fsyncs a new file <paramref name="sequence"/> holding <paramref name="rows"/> (via <c>*.tmp</c>, rename, directory fsync).</summary>
    public static DriftReservoirFile Create(string directory, int sequence, int dimension, float[] rows)
    {
        string path = Path.Combine(directory, FileName(sequence));
        var header = new byte[HeaderSize];
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(12), sequence);
        BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(16), dimension);
        FileDurability.Replace(path, tmp =>
        {
            using var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            file.Write(header);
            file.Write(MemoryMarshal.AsBytes(rows.AsSpan()));
            file.Flush(flushToDisk: true);
        });
        var hash = new XxHash64();
        hash.Append(header);
        hash.Append(MemoryMarshal.AsBytes(rows.AsSpan()));
        return new DriftReservoirFile(path, sequence, dimension, rows.Length / dimension, hash);
    }

    /// <summary>
    /// Appends <paramref name="rows"/> after the rows written so far and fsyncs them. Bytes past those rows (from a
    /// crashed process, or an append that failed) are cut first; a snapshot never names them. On failure nothing
    /// counts as written.
    /// </summary>
    public void Append(ReadOnlySpan<float> rows)
    {
        if (rows.IsEmpty) return;
        var bytes = MemoryMarshal.AsBytes(rows);
        long end = HeaderSize + Rows * _dimension * sizeof(float);
        using (var file = new FileStream(_path, FileMode.Open, FileAccess.Write, FileShare.Read, 1 << 16))
        {
            if (file.Length != end) file.SetLength(end);
            file.Position = end;
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }
        _hash.Append(bytes);
        Rows += rows.Length / _dimension;
    }

    /// <summary>
    /// Reads the prefix <paramref name="reference"/> names after checking its header and hash, and returns its last
    /// <paramref name="keep"/> rows (oldest first; a reservoir is never larger) with the state to append after the
    /// prefix. The prefix is hashed a piece at a time, so a long file costs no more memory than the rows kept. Damage
    /// is a <see cref="StoreCorruptedException"/> naming the file.
    /// </summary>
    public static (float[] Rows, DriftReservoirFile File) Read(string directory, ReservoirFileReference reference, int dimension, int keep = MaxKeptRows)
    {
        string path = Path.Combine(directory, FileName(reference.Sequence));
        if (!File.Exists(path)) throw new StoreCorruptedException(path, "drift reservoir file named in the snapshot is missing");
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
            int rowBytes = dimension * sizeof(float);
            if (reference.Rows < 0 || reference.Rows > (file.Length - HeaderSize) / rowBytes)
                throw new StoreCorruptedException(path, $"drift reservoir file is {file.Length} bytes, the snapshot names {reference.Rows} rows of {rowBytes} bytes");
            var header = new byte[HeaderSize];
            file.ReadExactly(header);
            var hash = new XxHash64();
            hash.Append(header);
            long skip = Math.Max(0, reference.Rows - keep);
            var rows = new float[(reference.Rows - skip) * dimension];
            var piece = new byte[Math.Max(rowBytes, (1 << 20) / rowBytes * rowBytes)];
            var kept = MemoryMarshal.AsBytes(rows.AsSpan());
            for (long row = 0; row < reference.Rows;)
            {
                int n = (int)Math.Min(piece.Length / rowBytes, reference.Rows - row);
                var bytes = piece.AsSpan(0, n * rowBytes);
                file.ReadExactly(bytes);
                hash.Append(bytes);
                // The rows of this piece at or after `skip` are kept.
                long from = Math.Max(row, skip);
                if (from < row + n) bytes[(int)((from - row) * rowBytes)..].CopyTo(kept[(int)((from - skip) * rowBytes)..]);
                row += n;
            }
            if (hash.GetCurrentHashAsUInt64() != reference.Hash) throw new StoreCorruptedException(path, "drift reservoir file differs from the rows the snapshot names (hash differs)");
            if (!header.AsSpan(0, 8).SequenceEqual(Magic)) throw new StoreCorruptedException(path, "not a drift reservoir file (bad magic)");
            uint version = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8));
            if (version is 0 || version > FormatVersion) throw new StoreCorruptedException(path, $"drift reservoir file format version {version} is not supported (1..{FormatVersion})");
            if (BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(12)) != reference.Sequence) throw new StoreCorruptedException(path, "drift reservoir file sequence differs from its name");
            int dim = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(16));
            if (dim != dimension) throw new StoreCorruptedException(path, $"drift reservoir file of dimension {dim}, the collection's is {dimension}");
            foreach (float v in rows)
                if (!float.IsFinite(v)) throw new StoreCorruptedException(path, "drift reservoir file holds a value that is not finite");
            return (rows, new DriftReservoirFile(path, reference.Sequence, dimension, reference.Rows, hash));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreCorruptedException(path, $"drift reservoir file cannot be read: {e.Message}", e);
        }
    }
}
