using System.Buffers.Binary;
using VectorStore.Indexing;

namespace VectorStore.Storage;

/// <summary>Names one index file and pins its exact bytes (data-format.md §4.10): what a snapshot records.</summary>
internal readonly record struct IndexFileReference(int Sequence, long Length, ulong Hash);

/// <summary>
/// A live index written on its own, <c>idx-NNNNNNNNNN.vsi</c> (data-format.md §4.10): a header, the index as
/// <see cref="IndexRegistry.Write"/> writes it, and an xxHash64 footer. A snapshot names the file with the slots that
/// changed since it was written, so a checkpoint rewrites the index only when enough changed (see
/// <see cref="VectorIndex.ReplaysChanges"/>), not every time. Immutable once written; deleted when no published
/// snapshot names it. Thread-safety: stateless.
/// </summary>
internal static class IndexFile
{
    public const uint FormatVersion = 1;
    private const int HeaderSize = 16;
    private static ReadOnlySpan<byte> Magic => "VSINDEXF"u8;
    private static ReadOnlySpan<byte> EndMagic => "VSIDXEND"u8;

    /// <summary>The file name of index file <paramref name="sequence"/>.</summary>
    public static string FileName(int sequence) => $"idx-{sequence:D10}.vsi";

    /// <summary>Writes and fsyncs index file <paramref name="sequence"/> (temporary file, fsync, rename, directory fsync).</summary>
    public static IndexFileReference Write(string directory, int sequence, VectorIndex index)
    {
        string path = Path.Combine(directory, FileName(sequence));
        string tmp = path + ".tmp";
        ulong hash;
        long length;
        using (var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            var hs = new HashingStream(file);
            Span<byte> header = stackalloc byte[HeaderSize];
            Magic.CopyTo(header);
            BinaryPrimitives.WriteUInt32LittleEndian(header[8..], FormatVersion);
            BinaryPrimitives.WriteInt32LittleEndian(header[12..], sequence);
            hs.Write(header);
            using (var w = new BinaryWriter(hs, System.Text.Encoding.UTF8, leaveOpen: true)) IndexRegistry.Write(index, w);
            hash = hs.Hash;
            Checksums.WriteHashFooter(file, hash, EndMagic);
            file.Flush(flushToDisk: true);
            length = file.Length;
        }
        File.Move(tmp, path, overwrite: true);
        FileDurability.FsyncDirectory(directory);
        return new IndexFileReference(sequence, length, hash);
    }

    /// <summary>
    /// Reads the index file <paramref name="reference"/> names, verifying that it is exactly that file (length, hash,
    /// sequence) and well formed; any damage is a <see cref="StoreCorruptedException"/> naming the file.
    /// </summary>
    public static VectorIndex Read(string directory, IndexFileReference reference)
    {
        string path = Path.Combine(directory, FileName(reference.Sequence));
        if (!File.Exists(path)) throw new StoreCorruptedException(path, "index file named in the snapshot is missing");
        try
        {
            return ReadVerified(path, reference);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Named here, not as the snapshot that refers to it.
            throw new StoreCorruptedException(path, $"index file cannot be read: {e.Message}", e);
        }
    }

    private static VectorIndex ReadVerified(string path, IndexFileReference reference)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        if (file.Length != reference.Length) throw new StoreCorruptedException(path, $"index file is {file.Length} bytes, the snapshot expects {reference.Length}");
        if (file.Length < HeaderSize + Checksums.HashFooterSize) throw new StoreCorruptedException(path, "index file truncated");
        ulong actual = Checksums.VerifyHashFooter(file, path, file.Length, EndMagic, "index file");
        if (actual != reference.Hash) throw new StoreCorruptedException(path, "index file is not the one the snapshot names (hash differs)");
        file.Position = 0;
        Span<byte> header = stackalloc byte[HeaderSize];
        file.ReadExactly(header);
        if (!header[..8].SequenceEqual(Magic)) throw new StoreCorruptedException(path, "not an index file (bad magic)");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (version is 0 or > FormatVersion) throw new StoreCorruptedException(path, $"index file format version {version} is not supported (1..{FormatVersion})");
        if (BinaryPrimitives.ReadInt32LittleEndian(header[12..]) != reference.Sequence) throw new StoreCorruptedException(path, "index file sequence differs from its name");
        try
        {
            using var r = new BinaryReader(file, System.Text.Encoding.UTF8, leaveOpen: true);
            var index = IndexRegistry.Read(r);
            if (file.Position != file.Length - Checksums.HashFooterSize) throw new InvalidDataException("bytes left after the index");
            return index;
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException or ArgumentException or OverflowException or FormatException or IndexOutOfRangeException)
        {
            throw new StoreCorruptedException(path, $"index file body is malformed: {e.Message}", e);
        }
    }
}
