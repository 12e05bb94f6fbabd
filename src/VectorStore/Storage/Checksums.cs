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
}
