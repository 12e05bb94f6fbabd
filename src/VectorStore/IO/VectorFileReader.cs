using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace VectorStore.IO;

/// <summary>
/// A TEXMEX <c>.fvecs</c> or NumPy <c>.npy</c> (float32 or float16, 2-D, C order) vector file read a block of rows at
/// a time, so that a file larger than the memory a process may use can still be loaded: opening reads only the header
/// and checks the size against it; <see cref="ReadRows"/> reads the rows asked for; <see cref="Validate"/> walks the
/// whole file in blocks. Every malformation is a <see cref="VectorFileException"/> naming the file and row.
/// </summary>
/// <remarks>Thread-safety: <see cref="ReadRows"/> and <see cref="Validate"/> may be called concurrently (reads of the
/// underlying stream take turns); <see cref="Dispose"/> must not overlap them.</remarks>
public sealed class VectorFileReader : IDisposable
{
    /// <summary>The most values per row either format may declare (a crafted header must not size buffers).</summary>
    private const int MaxDimension = 65_536;

    /// <summary>Bytes read from the file at a time (a whole row when one row is larger).</summary>
    private const int BlockBytes = 1 << 20;

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly long _dataOffset;
    private readonly int _rowBytes;
    private readonly bool _fvecs;
    private readonly bool _half;
    private readonly object _gate = new();

    private VectorFileReader(Stream stream, bool ownsStream, string path, int count, int dimension, long dataOffset, int rowBytes, bool fvecs, bool half)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        Path = path;
        Count = count;
        Dimension = dimension;
        _dataOffset = dataOffset;
        _rowBytes = rowBytes;
        _fvecs = fvecs;
        _half = half;
    }

    /// <summary>The file's path (or, for a stream, the name given to <see cref="OpenNpy(Stream, string)"/>), as errors name it.</summary>
    public string Path { get; }

    /// <summary>Rows in the file.</summary>
    public int Count { get; }

    /// <summary>Values per row.</summary>
    public int Dimension { get; }

    /// <summary>Opens <c>.npy</c> by extension, anything else as <c>.fvecs</c>.</summary>
    public static VectorFileReader Open(string path) =>
        System.IO.Path.GetExtension(path).Equals(".npy", StringComparison.OrdinalIgnoreCase) ? OpenNpy(path) : OpenFvecs(path);

    /// <summary>Opens a TEXMEX <c>.fvecs</c> file: per row an int32 dimension then that many float32.</summary>
    public static VectorFileReader OpenFvecs(string path)
    {
        var fs = OpenRead(path);
        try
        {
            long length = fs.Length;
            if (length == 0) throw new VectorFileException(path, -1, "file is empty");
            Span<byte> head = stackalloc byte[4];
            ReadExactly(fs, head, path, 0);
            int dim = BinaryPrimitives.ReadInt32LittleEndian(head);
            if (dim is <= 0 or > MaxDimension) throw new VectorFileException(path, 0, $"invalid dimension {dim}");
            int rowBytes = 4 + 4 * dim;
            if (length % rowBytes != 0) throw RaggedFvecs(fs, path, length, dim, rowBytes);
            long rows = length / rowBytes;
            if (rows > int.MaxValue) throw new VectorFileException(path, int.MaxValue, $"{rows} rows: more than {int.MaxValue} are not supported");
            return new VectorFileReader(fs, ownsStream: true, path, (int)rows, dim, 0, rowBytes, fvecs: true, half: false);
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    /// <summary>Opens a 2-D C-order little-endian <c>.npy</c> array of float32 (<c>&lt;f4</c>) or float16 (<c>&lt;f2</c>).</summary>
    public static VectorFileReader OpenNpy(string path)
    {
        var fs = OpenRead(path);
        try
        {
            return OpenNpy(fs, path, ownsStream: true);
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens a <c>.npy</c> array held by a seekable <paramref name="stream"/> (a resource stream, say) from position 0;
    /// <paramref name="name"/> names it in errors, as a path would. Disposing the reader leaves the stream open.
    /// </summary>
    public static VectorFileReader OpenNpy(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek) throw new ArgumentException("the stream must be seekable", nameof(stream));
        return OpenNpy(stream, name, ownsStream: false);
    }

    private static VectorFileReader OpenNpy(Stream stream, string name, bool ownsStream)
    {
        stream.Position = 0;
        var (dtype, rows, cols, dataOffset) = ReadNpyHeader(stream, name);
        bool half = dtype == "<f2";
        int elem = half ? 2 : 4;
        long needed = dataOffset + (long)rows * cols * elem;
        if (stream.Length < needed)
            throw new VectorFileException(name, (stream.Length - dataOffset) / Math.Max(1, (long)cols * elem),
                $"truncated: header promises {rows}×{cols} values, file has {stream.Length} bytes, needs {needed}");
        return new VectorFileReader(stream, ownsStream, name, rows, cols, dataOffset, checked(cols * elem), fvecs: false, half);
    }

    /// <summary>
    /// Reads rows [<paramref name="start"/>, <paramref name="start"/> + <paramref name="into"/>.Count) into
    /// <paramref name="into"/>, whose dimension must be <see cref="Dimension"/>. A row whose dimension differs (in an
    /// <c>.fvecs</c> file) or, unless <paramref name="allowNonFinite"/>, that holds a NaN or infinity is an error
    /// naming it.
    /// </summary>
    public void ReadRows(int start, VectorMatrix into, bool allowNonFinite = false)
    {
        ArgumentNullException.ThrowIfNull(into);
        if (into.Dimension != Dimension) throw new ArgumentException($"the matrix has dimension {into.Dimension}, the file {Dimension}", nameof(into));
        if (start < 0 || start > Count - into.Count)
            throw new ArgumentOutOfRangeException(nameof(start), $"rows [{start}, {(long)start + into.Count}) are not within the file's {Count}");
        int perBlock = Math.Max(1, BlockBytes / _rowBytes);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(perBlock, Math.Max(into.Count, 1)) * _rowBytes);
        try
        {
            for (int done = 0; done < into.Count; done += perBlock)
            {
                int n = Math.Min(perBlock, into.Count - done);
                var span = buffer.AsSpan(0, n * _rowBytes);
                long first = (long)start + done;
                lock (_gate)
                {
                    _stream.Position = _dataOffset + first * _rowBytes;
                    ReadExactly(_stream, span, Path, first);
                }
                for (int i = 0; i < n; i++) DecodeRow(span.Slice(i * _rowBytes, _rowBytes), into[done + i], first + i, allowNonFinite);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Reads every row, a block at a time (memory independent of the file's size), and throws for the first malformed
    /// one as <see cref="ReadRows"/> would: a caller that must write nothing from a file that fails part-way checks it
    /// whole first.
    /// </summary>
    public void Validate(bool allowNonFinite = false)
    {
        int block = Math.Max(1, BlockBytes / _rowBytes);
        var scratch = new VectorMatrix(Math.Min(block, Math.Max(Count, 1)), Dimension);
        for (int start = 0; start < Count; start += block)
        {
            int n = Math.Min(block, Count - start);
            ReadRows(start, n == scratch.Count ? scratch : new VectorMatrix(n, Dimension), allowNonFinite);
        }
    }

    private void DecodeRow(ReadOnlySpan<byte> raw, Span<float> row, long index, bool allowNonFinite)
    {
        if (_fvecs)
        {
            int d = BinaryPrimitives.ReadInt32LittleEndian(raw);
            if (d != Dimension) throw DimensionDiffers(Path, index, d, Dimension);
            MemoryMarshal.Cast<byte, float>(raw[4..]).CopyTo(row);
        }
        else if (_half)
        {
            var halves = MemoryMarshal.Cast<byte, Half>(raw);
            for (int d = 0; d < row.Length; d++) row[d] = (float)halves[d];
        }
        else MemoryMarshal.Cast<byte, float>(raw).CopyTo(row);
        if (allowNonFinite) return;
        for (int d = 0; d < row.Length; d++)
            if (!float.IsFinite(row[d]))
                throw new VectorFileException(Path, index, $"non-finite value {row[d]} at dimension {d}");
    }

    /// <summary>Closes the file (a stream given to <see cref="OpenNpy(Stream, string)"/> stays open).</summary>
    public void Dispose()
    {
        if (_ownsStream) _stream.Dispose();
    }

    /// <summary>Opens <paramref name="path"/> for reading; a missing or unreadable file is a <see cref="VectorFileException"/>.</summary>
    internal static FileStream OpenRead(string path, int bufferSize = 0)
    {
        try
        {
            // No FileStream buffer by default: a reader's reads are whole blocks of rows at known offsets.
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VectorFileException(path, -1, e is FileNotFoundException or DirectoryNotFoundException ? "file not found" : e.Message);
        }
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
            Span<byte> len = stackalloc byte[4];
            pre[8..].CopyTo(len);
            ReadExactly(fs, len[2..], path, -1);
            headerLen = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(len), int.MaxValue);
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
        if (cols > MaxDimension) throw new VectorFileException(path, -1, $".npy shape ({shape}): {cols} columns, more than the {MaxDimension} a vector may have");
        return (dtype, rows, cols, offset + headerLen);
    }

    private static string NpyField(string header, string key, string path)
    {
        int k = header.IndexOf($"'{key}'", StringComparison.Ordinal);
        if (k < 0) throw new VectorFileException(path, -1, $".npy header lacks '{key}'");
        int colon = header.IndexOf(':', k);
        if (colon < 0) throw new VectorFileException(path, -1, $".npy header's '{key}' has no value");
        int start = colon + 1;
        while (start < header.Length && header[start] == ' ') start++;
        if (start >= header.Length) throw new VectorFileException(path, -1, $".npy header's '{key}' has no value");
        if (header[start] == '(')
        {
            int close = header.IndexOf(')', start);
            if (close < 0) throw new VectorFileException(path, -1, $".npy header's '{key}' is not closed");
            return header[start..(close + 1)];
        }
        if (header[start] == '\'')
        {
            int close = header.IndexOf('\'', start + 1);
            if (close < 0) throw new VectorFileException(path, -1, $".npy header's '{key}' is not closed");
            return header[(start + 1)..close];
        }
        int end = header.IndexOfAny([',', '}'], start);
        if (end < 0) throw new VectorFileException(path, -1, $".npy header's '{key}' is not closed");
        return header[start..end].Trim();
    }

    internal static void ReadExactly(Stream s, Span<byte> buffer, string path, long row)
    {
        int read = s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (read != buffer.Length) throw new VectorFileException(path, row, $"truncated: expected {buffer.Length} bytes, found {read}");
    }
}
