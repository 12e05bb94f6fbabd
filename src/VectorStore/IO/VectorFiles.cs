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
        using var reader = VectorFileReader.Open(path);
        return ReadAll(reader, maxRows, allowNonFinite);
    }

    private static VectorMatrix ReadAll(VectorFileReader reader, int maxRows, bool allowNonFinite)
    {
        var m = new VectorMatrix(Math.Min(reader.Count, Math.Max(maxRows, 0)), reader.Dimension);
        reader.ReadRows(0, m, allowNonFinite);
        return m;
    }

    /// <summary>Reads a TEXMEX <c>.fvecs</c> file: per row an int32 dimension then that many float32.</summary>
    public static VectorMatrix ReadFvecs(string path, int maxRows = int.MaxValue)
    {
        using var reader = VectorFileReader.OpenFvecs(path);
        return ReadAll(reader, maxRows, allowNonFinite: true);
    }

    /// <summary>Reads a TEXMEX <c>.ivecs</c> file (e.g. ground truth): rows of int32 of possibly different lengths.</summary>
    public static int[][] ReadIvecs(string path, int maxRows = int.MaxValue)
    {
        using var fs = VectorFileReader.OpenRead(path, bufferSize: 1 << 16);
        var rows = new List<int[]>();
        Span<byte> head = stackalloc byte[4];
        long pos = 0;
        while (pos < fs.Length && rows.Count < maxRows)
        {
            if (fs.Length - pos < 4) throw new VectorFileException(path, rows.Count, "truncated row header");
            VectorFileReader.ReadExactly(fs, head, path, rows.Count);
            int d = BinaryPrimitives.ReadInt32LittleEndian(head);
            if (d < 0 || d > 1 << 20) throw new VectorFileException(path, rows.Count, $"invalid row length {d}");
            if (fs.Length - pos - 4 < 4L * d) throw new VectorFileException(path, rows.Count, $"truncated: row needs {4L * d} bytes");
            var bytes = new byte[4 * d];
            VectorFileReader.ReadExactly(fs, bytes, path, rows.Count);
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
        using var reader = VectorFileReader.OpenNpy(path);
        return ReadAll(reader, maxRows, allowNonFinite: true);
    }

    /// <summary>
    /// Reads a <c>.npy</c> array from a seekable <paramref name="stream"/> (a resource stream, say) that holds it from
    /// position 0; <paramref name="name"/> names it in errors (as a path would). The stream is left open.
    /// </summary>
    public static VectorMatrix ReadNpy(Stream stream, string name, int maxRows = int.MaxValue)
    {
        using var reader = VectorFileReader.OpenNpy(stream, name);
        return ReadAll(reader, maxRows, allowNonFinite: true);
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
}
