using System.Buffers.Binary;
using System.IO.Hashing;

namespace VectorStore.Storage;

/// <summary>
/// The checksums of the on-disk formats: CRC-32 (IEEE, <see cref="Crc32"/>) for small records (manifest, log records,
/// durable-tail slots) and xxHash64 for snapshot files, where speed matters. Thread-safe (stateless).
/// </summary>
internal static class Checksums
{
    public static uint Crc(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(data);

    /// <summary>Appends the CRC-32 of <paramref name="data"/>[..length] at <paramref name="data"/>[length..length+4].</summary>
    public static void WriteCrc(Span<byte> data, int length) =>
        BinaryPrimitives.WriteUInt32LittleEndian(data.Slice(length, 4), Crc(data[..length]));

    /// <summary>Whether the last four bytes of <paramref name="data"/> are the CRC-32 of the rest.</summary>
    public static bool CheckCrc(ReadOnlySpan<byte> data) =>
        data.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]) == Crc(data[..^4]);

    /// <summary>Bytes of a hash footer: <c>u64</c> xxHash64 of everything before it, then an 8-byte end magic.</summary>
    public const int HashFooterSize = 16;

    /// <summary>Writes the hash footer (<paramref name="hash"/>, <paramref name="endMagic"/>) of a snapshot or index file.</summary>
    public static void WriteHashFooter(Stream file, ulong hash, ReadOnlySpan<byte> endMagic)
    {
        Span<byte> tail = stackalloc byte[HashFooterSize];
        BinaryPrimitives.WriteUInt64LittleEndian(tail, hash);
        endMagic.CopyTo(tail[8..]);
        file.Write(tail);
    }

    /// <summary>
    /// Verifies the hash footer of the first <paramref name="length"/> bytes of <paramref name="file"/> (its end magic,
    /// then the xxHash64 of every byte before it, read in 1 MiB pieces) and returns the hash; damage is a
    /// <see cref="StoreCorruptedException"/> naming <paramref name="path"/> as a <paramref name="what"/>.
    /// </summary>
    public static ulong VerifyHashFooter(FileStream file, string path, long length, ReadOnlySpan<byte> endMagic, string what)
    {
        Span<byte> tail = stackalloc byte[HashFooterSize];
        file.Position = length - HashFooterSize;
        file.ReadExactly(tail);
        if (!tail[8..].SequenceEqual(endMagic)) throw new StoreCorruptedException(path, $"{what} footer missing (truncated or damaged)");
        ulong expected = BinaryPrimitives.ReadUInt64LittleEndian(tail);
        file.Position = 0;
        var hash = new XxHash64();
        var buffer = new byte[1 << 20];
        long remaining = length - HashFooterSize;
        while (remaining > 0)
        {
            int n = file.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
            if (n <= 0) throw new StoreCorruptedException(path, $"{what} shorter than its size");
            hash.Append(buffer.AsSpan(0, n));
            remaining -= n;
        }
        if (hash.GetCurrentHashAsUInt64() != expected) throw new StoreCorruptedException(path, $"{what} checksum mismatch");
        return expected;
    }
}
