using System.Buffers.Binary;

namespace VectorStore.Storage;

/// <summary>Names one pinned file and its exact bytes (length and footer hash): what a snapshot records.</summary>
internal readonly record struct PinnedFileReference(int Sequence, long Length, ulong Hash)
{
    /// <summary>As a snapshot records it: <c>i32 sequence</c>, <c>i64 length</c>, <c>u64 hash</c>.</summary>
    public void Write(BinaryWriter w)
    {
        w.Write(Sequence);
        w.Write(Length);
        w.Write(Hash);
    }

    /// <summary>Reads what <see cref="Write"/> wrote.</summary>
    public static PinnedFileReference Read(BinaryReader r) => new(r.ReadInt32(), r.ReadInt64(), r.ReadUInt64());
}

/// <summary>The name, magics and version of one kind of pinned file (index files §4.10, slot files §4.11).</summary>
internal sealed record PinnedFileFormat(string What, string Prefix, string Extension, byte[] Magic, byte[] EndMagic, uint Version)
{
    /// <summary>The file name of file <paramref name="sequence"/>.</summary>
    public string FileName(int sequence) => $"{Prefix}-{sequence:D10}.{Extension}";
}

/// <summary>
/// A file written beside the snapshots and named by one, so a checkpoint can keep naming it instead of writing its
/// contents again (data-format.md §4.10, §4.11): a 16-byte header (8-byte magic, <c>u32</c> format version,
/// <c>i32</c> sequence), a body, and an xxHash64 footer. Written as <c>*.tmp</c>, fsynced, renamed, directory
/// fsynced; immutable once written; read only after its length and hash match the reference and its header checks out,
/// and any damage is a <see cref="StoreCorruptedException"/> naming the file. Thread-safety: stateless.
/// </summary>
internal static class PinnedFile
{
    private const int HeaderSize = 16;

    /// <summary>Writes and fsyncs file <paramref name="sequence"/> of <paramref name="format"/> with <paramref name="body"/>.</summary>
    public static PinnedFileReference Write(string directory, int sequence, PinnedFileFormat format, Action<BinaryWriter> body)
    {
        string path = Path.Combine(directory, format.FileName(sequence));
        ulong hash = 0;
        long length = 0;
        FileDurability.Replace(path, tmp =>
        {
            using var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            var hs = new HashingStream(file);
            Span<byte> header = stackalloc byte[HeaderSize];
            format.Magic.CopyTo(header);
            BinaryPrimitives.WriteUInt32LittleEndian(header[8..], format.Version);
            BinaryPrimitives.WriteInt32LittleEndian(header[12..], sequence);
            hs.Write(header);
            using (var w = new BinaryWriter(hs, System.Text.Encoding.UTF8, leaveOpen: true)) body(w);
            hash = hs.Hash;
            Checksums.WriteHashFooter(file, hash, format.EndMagic);
            file.Flush(flushToDisk: true);
            length = file.Length;
        });
        return new PinnedFileReference(sequence, length, hash);
    }

    /// <summary>
    /// Reads the file <paramref name="reference"/> names with <paramref name="body"/>, which must consume it exactly,
    /// after verifying that it is exactly that file (length, hash, sequence) and well formed.
    /// </summary>
    public static T Read<T>(string directory, PinnedFileReference reference, PinnedFileFormat format, Func<BinaryReader, T> body)
    {
        string path = Path.Combine(directory, format.FileName(reference.Sequence));
        if (!File.Exists(path)) throw new StoreCorruptedException(path, $"{format.What} named in the snapshot is missing");
        try
        {
            return ReadVerified(path, reference, format, body);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Named here, not as the snapshot that refers to it.
            throw new StoreCorruptedException(path, $"{format.What} cannot be read: {e.Message}", e);
        }
    }

    private static T ReadVerified<T>(string path, PinnedFileReference reference, PinnedFileFormat format, Func<BinaryReader, T> body)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        string what = format.What;
        if (file.Length != reference.Length) throw new StoreCorruptedException(path, $"{what} is {file.Length} bytes, the snapshot expects {reference.Length}");
        if (file.Length < HeaderSize + Checksums.HashFooterSize) throw new StoreCorruptedException(path, $"{what} truncated");
        ulong actual = Checksums.VerifyHashFooter(file, path, file.Length, format.EndMagic, what);
        if (actual != reference.Hash) throw new StoreCorruptedException(path, $"{what} is not the one the snapshot names (hash differs)");
        file.Position = 0;
        Span<byte> header = stackalloc byte[HeaderSize];
        file.ReadExactly(header);
        if (!header[..8].SequenceEqual(format.Magic)) throw new StoreCorruptedException(path, $"not a {what} (bad magic)");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
        if (version is 0 || version > format.Version) throw new StoreCorruptedException(path, $"{what} format version {version} is not supported (1..{format.Version})");
        if (BinaryPrimitives.ReadInt32LittleEndian(header[12..]) != reference.Sequence) throw new StoreCorruptedException(path, $"{what} sequence differs from its name");
        try
        {
            using var r = new BinaryReader(file, System.Text.Encoding.UTF8, leaveOpen: true);
            var result = body(r);
            if (file.Position != file.Length - Checksums.HashFooterSize) throw new InvalidDataException($"bytes left after the {what}'s body");
            return result;
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException or ArgumentException or OverflowException or FormatException or IndexOutOfRangeException)
        {
            throw new StoreCorruptedException(path, $"{what} body is malformed: {e.Message}", e);
        }
    }
}
