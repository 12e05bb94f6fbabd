using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace VectorStore.IO;

/// <summary>
/// Readers and writers for TEXMEX <c>.fvecs</c>/<c>.ivecs</c> and NumPy <c>.npy</c> (float32 or float16, 2-D, C order).
/// Every malformation is a <see cref="VectorFileException"/> naming the file and row. Stateless and thread-safe.
/// </summary>
public static class VectorFiles
{
    /// <summary>Reads <c>.fvecs</c> or <c>.npy</c> by extension. Non-finite values are rejected unless allowed.</summary>
    public static VectorMatrix ReadVectors(string path, bool allowNonFinite = false, int maxRows = int.MaxValue)
    {
        var m = Path.GetExtension(path).Equals(".npy", StringComparison.OrdinalIgnoreCase)
            ? ReadNpy(path, maxRows)
            : ReadFvecs(path, maxRows);
        if (!allowNonFinite)
        {
            var data = m.Data;
            for (long i = 0; i < data.Length; i++)
                if (!float.IsFinite(data[i]))
                    throw new VectorFileException(path, i / m.Dimension, $"non-finite value {data[i]} at dimension {i % m.Dimension}");
        }
        return m;
    }

    private static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VectorFileException(path, -1, e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : e.Message);
        }
    }

    /// <summary>Reads a TEXMEX <c>.fvecs</c> file: per row an int32 dimension then that many float32.</summary>
    public static VectorMatrix ReadFvecs(string path, int maxRows = int.MaxValue)
    {
        using var fs = OpenRead(path);
        long length = fs.Length;
        if (length == 0) throw new VectorFileException(path, -1, "file is empty");
        Span<byte> head = stackalloc byte[4];
        ReadExactly(fs, head, path, 0);
        int dim = BinaryPrimitives.ReadInt32LittleEndian(head);
        if (dim is <= 0 or > 65_536) throw new VectorFileException(path, 0, $"invalid dimension {dim}");
        long rowBytes = 4 + 4L * dim;
        long rows = length / rowBytes;
        if (length % rowBytes != 0) throw RaggedFvecs(fs, path, length, dim, rowBytes);
        int n = (int)Math.Min(rows, maxRows);
        var m = new VectorMatrix(n, dim);
        fs.Position = 0;
        var rowBuf = new byte[rowBytes];
        for (int i = 0; i < n; i++)
        {
            ReadExactly(fs, rowBuf, path, i);
            int d = BinaryPrimitives.ReadInt32LittleEndian(rowBuf);
            if (d != dim) throw DimensionDiffers(path, i, d, dim);
            MemoryMarshal.Cast<byte, float>(rowBuf.AsSpan(4)).CopyTo(m[i]);
        }
        return m;
    }

    /// <summary>
    /// The error for an <c>.fvecs</c> file whose size is not a whole number of first-row-sized rows. That size alone
    /// cannot tell a short last row from a row of another dimension earlier on, and blaming truncation (at whatever row
    /// the arithmetic lands on) hides the real fault; so the row headers are walked, 4 bytes per row, up to the first
    /// that differs from the first row's. Only when every header agrees is the file truncated.
    /// </summary>
    private static VectorFileException RaggedFvecs(FileStream fs, string path, long length, int dim, long rowBytes)
    {
        Span<byte> head = stackalloc byte[4];
        long row = 0;
        for (long offset = 0; length - offset >= 4; offset += rowBytes, row++)
        {
            fs.Position = offset;
            ReadExactly(fs, head, path, row);
            int d = BinaryPrimitives.ReadInt32LittleEndian(head);
            if (d != dim) return DimensionDiffers(path, row, d, dim);
            if (length - offset < rowBytes) break;
        }
        return new VectorFileException(path, row, $"truncated: file size {length} is not a multiple of the row size {rowBytes} (dimension {dim})");
    }

    private static VectorFileException DimensionDiffers(string path, long row, int d, int dim) =>
        new(path, row, $"dimension {d} differs from the first row's {dim}");

    /// <summary>Reads a TEXMEX <c>.ivecs</c> file (e.g. ground truth): rows of int32 of possibly different lengths.</summary>
    public static int[][] ReadIvecs(string path, int maxRows = int.MaxValue)
    {
        using var fs = OpenRead(path);
        var rows = new List<int[]>();
        Span<byte> head = stackalloc byte[4];
        long pos = 0;
        while (pos < fs.Length && rows.Count < maxRows)
        {
            if (fs.Length - pos < 4) throw new VectorFileException(path, rows.Count, "truncated row header");
            ReadExactly(fs, head, path, rows.Count);
            int d = BinaryPrimitives.ReadInt32LittleEndian(head);
            if (d < 0 || d > 1 << 20) throw new VectorFileException(path, rows.Count, $"invalid row length {d}");
            if (fs.Length - pos - 4 < 4L * d) throw new VectorFileException(path, rows.Count, $"truncated: row needs {4L * d} bytes");
            var bytes = new byte[4 * d];
            ReadExactly(fs, bytes, path, rows.Count);
            rows.Add(MemoryMarshal.Cast<byte, int>(bytes).ToArray());
            pos += 4 + 4L * d;
        }
        return rows.ToArray();
    }

    /// <summary>Writes <paramref name="m"/> as <c>.fvecs</c>.</summary>
    public static void WriteFvecs(string path, VectorMatrix m)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Span<byte> head = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(head, m.Dimension);
        for (int i = 0; i < m.Count; i++)
        {
            fs.Write(head);
            fs.Write(MemoryMarshal.AsBytes(m.Row(i)));
        }
    }

    /// <summary>Writes rows of ints as <c>.ivecs</c>.</summary>
    public static void WriteIvecs(string path, IEnumerable<int[]> rows)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        Span<byte> head = stackalloc byte[4];
        foreach (var r in rows)
        {
            BinaryPrimitives.WriteInt32LittleEndian(head, r.Length);
            fs.Write(head);
            fs.Write(MemoryMarshal.AsBytes(r.AsSpan()));
        }
    }

    /// <summary>Reads a 2-D C-order little-endian <c>.npy</c> array of float32 (<c>&lt;f4</c>) or float16 (<c>&lt;f2</c>).</summary>
    public static VectorMatrix ReadNpy(string path, int maxRows = int.MaxValue)
    {
        using var fs = OpenRead(path);
        return ReadNpy(fs, path, maxRows);
    }

    /// <summary>
    /// Reads a <c>.npy</c> array from a seekable <paramref name="stream"/> (a resource stream, say) that holds it from
    /// position 0; <paramref name="name"/> names it in errors (as a path would). The stream is left open.
    /// </summary>
    public static VectorMatrix ReadNpy(Stream stream, string name, int maxRows = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek) throw new ArgumentException("the stream must be seekable", nameof(stream));
        var (dtype, rows, cols, dataOffset) = ReadNpyHeader(stream, name);
        int elem = dtype == "<f4" ? 4 : 2;
        long needed = dataOffset + (long)rows * cols * elem;
        if (stream.Length < needed) throw new VectorFileException(name, (stream.Length - dataOffset) / Math.Max(1, (long)cols * elem), $"truncated: header promises {rows}×{cols} values, file has {stream.Length} bytes, needs {needed}");
        int n = (int)Math.Min(rows, maxRows);
        var m = new VectorMatrix(n, cols);
        stream.Position = dataOffset;
        var rowBuf = new byte[cols * elem];
        for (int i = 0; i < n; i++)
        {
            ReadExactly(stream, rowBuf, name, i);
            if (elem == 4) MemoryMarshal.Cast<byte, float>(rowBuf).CopyTo(m[i]);
            else
            {
                var halves = MemoryMarshal.Cast<byte, Half>(rowBuf);
                var row = m[i];
                for (int d = 0; d < cols; d++) row[d] = (float)halves[d];
            }
        }
        return m;
    }

    private static (string Dtype, int Rows, int Cols, long DataOffset) ReadNpyHeader(Stream fs, string path)
    {
        Span<byte> pre = stackalloc byte[10];
        ReadExactly(fs, pre, path, -1);
        if (pre[0] != 0x93 || Encoding.ASCII.GetString(pre.Slice(1, 5)) != "NUMPY") throw new VectorFileException(path, -1, "not a .npy file (bad magic)");
        int major = pre[6];
        int headerLen;
        long offset;
        if (major == 1) { headerLen = BinaryPrimitives.ReadUInt16LittleEndian(pre[8..]); offset = 10; }
        else
        {
            Span<byte> extra = stackalloc byte[2];
            ReadExactly(fs, extra, path, -1);
            headerLen = (int)BinaryPrimitives.ReadUInt32LittleEndian(pre[8..].ToArray().Concat(extra.ToArray()).ToArray());
            offset = 12;
        }
        if (headerLen is <= 0 or > 1 << 20) throw new VectorFileException(path, -1, $"bad .npy header length {headerLen}");
        var header = new byte[headerLen];
        ReadExactly(fs, header, path, -1);
        string h = Encoding.ASCII.GetString(header);
        string dtype = NpyField(h, "descr", path);
        if (dtype is not ("<f4" or "<f2")) throw new VectorFileException(path, -1, $".npy dtype {dtype} is not supported (expected <f4 or <f2)");
        if (NpyField(h, "fortran_order", path) != "False") throw new VectorFileException(path, -1, ".npy in Fortran order is not supported");
        string shape = NpyField(h, "shape", path).Trim('(', ')', ' ');
        var parts = shape.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || !int.TryParse(parts[0], out int rows) || !int.TryParse(parts[1], out int cols) || rows < 0 || cols <= 0)
            throw new VectorFileException(path, -1, $".npy shape ({shape}) is not a 2-D array");
        return (dtype, rows, cols, offset + headerLen);
    }

    private static string NpyField(string header, string key, string path)
    {
        int k = header.IndexOf($"'{key}'", StringComparison.Ordinal);
        if (k < 0) throw new VectorFileException(path, -1, $".npy header lacks '{key}'");
        int colon = header.IndexOf(':', k);
        int start = colon + 1;
        while (start < header.Length && header[start] == ' ') start++;
        if (header[start] == '(') return header[start..(header.IndexOf(')', start) + 1)];
        if (header[start] == '\'') return header[(start + 1)..header.IndexOf('\'', start + 1)];
        int end = header.IndexOfAny([',', '}'], start);
        return header[start..end].Trim();
    }

    /// <summary>Writes <paramref name="m"/> as a float16 (<c>half</c>) or float32 <c>.npy</c>.</summary>
    public static void WriteNpy(string path, VectorMatrix m, bool half = false)
    {
        string dict = $"{{'descr': '{(half ? "<f2" : "<f4")}', 'fortran_order': False, 'shape': ({m.Count}, {m.Dimension}), }}";
        int total = 10 + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        string header = dict + new string(' ', pad) + "\n";
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
        fs.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        fs.Write(len);
        fs.Write(Encoding.ASCII.GetBytes(header));
        if (!half) { fs.Write(MemoryMarshal.AsBytes(m.Data.AsSpan())); return; }
        var buf = new Half[m.Dimension];
        for (int i = 0; i < m.Count; i++)
        {
            var row = m.Row(i);
            for (int d = 0; d < buf.Length; d++) buf[d] = (Half)row[d];
            fs.Write(MemoryMarshal.AsBytes(buf.AsSpan()));
        }
    }

    private static void ReadExactly(Stream s, Span<byte> buffer, string path, long row)
    {
        int read = s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (read != buffer.Length) throw new VectorFileException(path, row, $"truncated: expected {buffer.Length} bytes, found {read}");
    }
}
