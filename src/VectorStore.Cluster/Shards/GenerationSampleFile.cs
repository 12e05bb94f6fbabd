using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using VectorStore.Storage;

namespace VectorStore.Cluster.Shards;

/// <summary>
/// The shared training sample of one cluster generation, kept by each copy beside its silo's database
/// (<c>{database}.{collection}.{shard}.gen-{number}.vgs</c>, data-format.md §6.3): a copy that lacks the generation
/// (a new replica, a copy whose build was interrupted) is given this sample by one that has it, and trains the same
/// codec. Written once (atomically, fsynced), read whole, deleted with the generation.
/// </summary>
/// <remarks>Thread-safety: stateless; the shard grain calls it from one turn at a time.</remarks>
internal static class GenerationSampleFile
{
    public const uint FormatVersion = 1;
    private const int HeaderSize = 8 + 4 + 4 + 4 + 4;
    private static ReadOnlySpan<byte> Magic => "VSGSMPL1"u8;

    public static string PathOf(string directory, string localPrefix, int number) => Path.Combine(directory, $"{localPrefix}gen-{number}.vgs");

    /// <summary>Writes the sample (row-major, <paramref name="dimension"/> values per row) and fsyncs it and its directory.</summary>
    public static void Write(string path, int number, int dimension, ReadOnlySpan<float> rows)
    {
        int count = rows.Length / dimension;
        var bytes = new byte[HeaderSize + rows.Length * sizeof(float) + sizeof(ulong)];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), number);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), dimension);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(20), count);
        var body = bytes.AsSpan(HeaderSize, rows.Length * sizeof(float));
        if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(rows).CopyTo(body);
        else for (int i = 0; i < rows.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(body[(i * 4)..], rows[i]);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8), XxHash64.HashToUInt64(bytes.AsSpan(0, bytes.Length - 8)));
        FileDurability.WriteAtomic(path, bytes);
    }

    /// <summary>The sample's rows, verified; <see cref="InvalidOperationException"/> naming the file when it is missing or damaged.</summary>
    public static float[] Read(string path, int number, int dimension)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"training sample of generation {number} cannot be read ({path}): {e.Message}", e);
        }
        int count = RowsIn(bytes, bytes.Length, path, number, dimension);
        if (XxHash64.HashToUInt64(bytes.AsSpan(0, bytes.Length - 8)) != BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8)))
            throw Damaged(path, number);
        return Decode(bytes.AsSpan(HeaderSize, count * dimension * sizeof(float)));
    }

    /// <summary>
    /// Rows <paramref name="fromRow"/>.. (at most <paramref name="rows"/>) of the sample, after checking the header
    /// (the whole file's hash is checked by <see cref="Read"/>, which a transfer calls for its first page).
    /// </summary>
    public static float[] ReadRows(string path, int number, int dimension, int fromRow, int rows)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            Span<byte> header = stackalloc byte[HeaderSize];
            file.ReadExactly(header);
            int count = RowsIn(header, file.Length, path, number, dimension);
            int n = Math.Max(0, Math.Min(rows, count - fromRow));
            var bytes = new byte[n * dimension * sizeof(float)];
            file.Position = HeaderSize + (long)fromRow * dimension * sizeof(float);
            file.ReadExactly(bytes);
            return Decode(bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"training sample of generation {number} cannot be read ({path}): {e.Message}", e);
        }
    }

    /// <summary>
    /// The row count the header at the start of <paramref name="file"/> gives, after checking it (magic, version,
    /// generation, dimension) against a file of <paramref name="fileLength"/> bytes; the hash is the caller's.
    /// </summary>
    private static int RowsIn(ReadOnlySpan<byte> file, long fileLength, string path, int number, int dimension)
    {
        if (fileLength < HeaderSize + 8 || file.Length < HeaderSize || !file[..8].SequenceEqual(Magic)
            || BinaryPrimitives.ReadUInt32LittleEndian(file[8..]) != FormatVersion
            || BinaryPrimitives.ReadInt32LittleEndian(file[12..]) != number
            || BinaryPrimitives.ReadInt32LittleEndian(file[16..]) != dimension)
            throw Damaged(path, number);
        int count = BinaryPrimitives.ReadInt32LittleEndian(file[20..]);
        if (count < 0 || (long)count * dimension * sizeof(float) != fileLength - HeaderSize - 8) throw Damaged(path, number);
        return count;
    }

    private static InvalidOperationException Damaged(string path, int number) =>
        new($"training sample of generation {number} is damaged ({path})");

    /// <summary>Little-endian float32 rows into floats.</summary>
    private static float[] Decode(ReadOnlySpan<byte> body)
    {
        var rows = new float[body.Length / sizeof(float)];
        if (BitConverter.IsLittleEndian) body.CopyTo(MemoryMarshal.AsBytes(rows.AsSpan()));
        else for (int i = 0; i < rows.Length; i++) rows[i] = BinaryPrimitives.ReadSingleLittleEndian(body[(i * 4)..]);
        return rows;
    }

    public static void Delete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Housekeeping: a left-over sample costs disk only; the next drop of the copy (Wipe) removes it.
        }
    }
}
