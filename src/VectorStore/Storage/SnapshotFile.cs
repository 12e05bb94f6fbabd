using System.Buffers.Binary;
using System.Runtime.InteropServices;
using VectorStore.Indexing;
using VectorStore.Quantization;

namespace VectorStore.Storage;

/// <summary>
/// A collection snapshot (data-format.md §4.4): a 4 KiB header, a metadata section (slots, ids, the segment list and
/// each live slot's segment row, payloads, the trained index with its codec) and a footer with an xxHash64 of
/// everything before it. The full-precision vectors live in segment files (§4.8); a version-1 snapshot (the previous
/// release) carried them itself, between header and metadata, and is still read.
/// Thread-safety: stateless; the caller holds the collection's read lock while writing.
/// </summary>
internal static class SnapshotFile
{
    public const uint FormatVersion = 9;
    public const int HeaderSize = 4096;
    public const int FooterSize = 24;
    private static ReadOnlySpan<byte> Magic => "VSSNAPSH"u8;
    private static ReadOnlySpan<byte> EndMagic => "VSSNAPEN"u8;

    /// <summary>State read back from a snapshot.</summary>
    public sealed class Contents
    {
        public required long LogAddress { get; init; }
        public required int HighWater { get; init; }
        public required int Count { get; init; }
        public required ulong[] LiveBits { get; init; }
        public required ulong[] Ids { get; init; }
        public required byte[]?[]? Payloads { get; init; }
        /// <summary>Per slot the stored field values (version 3; null while no slot has any).</summary>
        public required byte[]?[]? Fields { get; init; }
        public required VectorIndex? Index { get; init; }
        /// <summary>The second-stage codes (version 3; null when the collection has none or is untrained).</summary>
        public required RefineStage? Refine { get; init; }
        /// <summary>The compression generations (version 4; null before: one live generation with the options' specs).</summary>
        public SnapshotGenerations? Generations { get; init; }
        /// <summary>Format version read (1: vectors were inside the snapshot and went to the sink).</summary>
        public required uint Version { get; init; }
        /// <summary>Segments referenced (version 2; empty for 1).</summary>
        public required (int Sequence, int Rows)[] Segments { get; init; }
        /// <summary>Per slot <c>(sequence &lt;&lt; 32) | row</c> or -1 (version 2; null for 1).</summary>
        public required long[]? Locations { get; init; }
        /// <summary>The index file <see cref="Index"/> was read from (version 5; null when the index is inline or absent).</summary>
        public PinnedFileReference? IndexFile { get; init; }
        /// <summary>With <see cref="IndexFile"/>: the slots changed since it was written, ascending (their entries must be replaced).</summary>
        public int[] ChangedSlots { get; init; } = [];
        /// <summary>The slot file the per-slot state was read from (version 7; null when it was inline).</summary>
        public PinnedFileReference? SlotFile { get; init; }
        /// <summary>With <see cref="SlotFile"/>: the slots whose entries the snapshot carries, ascending.</summary>
        public int[] SlotFileChanges { get; init; } = [];
    }

    /// <summary>Writes and fsyncs <paramref name="image"/> as a snapshot at <paramref name="path"/> (via a temporary file and rename).</summary>
    public static void Write(string path, SnapshotImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int highWater = image.HighWater;
        FileDurability.Replace(path, tmp =>
        {
            using var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            var hs = new HashingStream(file);
            var header = new byte[HeaderSize];
            Magic.CopyTo(header);
            BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(8), FormatVersion);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(12), image.Dimension);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(16), image.LogAddress);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(24), highWater);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(28), image.Count);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(32), HeaderSize);
            BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(40), 0); // version 2: vectors live in segments
            hs.Write(header);
            long metaStart = hs.Written;
            using (var w = new BinaryWriter(hs, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                w.Write(highWater);
                if (image.SlotFile is { } sf)
                {
                    // The per-slot state is in a slot file (§4.11); only the slots changed since are written here.
                    w.Write((byte)2);
                    sf.File.Write(w);
                    SlotFile.WriteChanges(w, sf.Changed, image.LiveBits, image.Ids, image.Location, image.Fields);
                }
                else
                {
                    w.Write((byte)1);
                    SlotFile.WriteSection(w, highWater, image.Count, image.LiveBits, image.Ids, image.Location, image.Fields);
                }
                w.Write(image.Segments.Count);
                foreach (var (sequence, rows) in image.Segments)
                {
                    w.Write(sequence);
                    w.Write(rows);
                }
                if (image.IndexFile is { } imageBase && image.Index is { WritesChangeImages: true } index)
                {
                    // The index lives in its own file; what changed since is written here as the index's change image.
                    w.Write((byte)3);
                    imageBase.Write(w);
                    index.WriteChanges(w);
                }
                else if (image.IndexFile is { } external)
                {
                    // The index lives in its own file; the slots changed since it was written are replayed at recovery.
                    w.Write((byte)2);
                    external.Write(w);
                    var changed = image.ChangedSlots ?? [];
                    w.Write(changed.Count);
                    foreach (int slot in changed) w.Write(slot);
                }
                else SnapshotGenerations.WriteIndex(w, image.Index);
                SnapshotGenerations.WriteRefine(w, image.Refine, highWater);
                (image.Generations ?? new SnapshotGenerations(1, 1, "", "", [], null)).Write(w, highWater);
                w.Write(hs.Written - metaStart + 8);
            }
            Checksums.WriteHashFooter(file, hs.Hash, EndMagic);
            file.Flush(flushToDisk: true);
        });
    }

    private static (int, int)[] ReadSegments(BinaryReader r, string path, long length)
    {
        int n = r.ReadInt32();
        if (n < 0 || n > length / 8) throw new StoreCorruptedException(path, $"snapshot segment count {n} is invalid");
        var segments = new (int, int)[n];
        for (int i = 0; i < n; i++) segments[i] = (r.ReadInt32(), r.ReadInt32());
        return segments;
    }

    /// <summary>The per-slot state of versions 1 to 6: ids, segments, locations, then payloads and fields per live slot.</summary>
    private static (ulong[] Live, ulong[] Ids, (int, int)[] Segments, long[]? Locations, byte[]?[]? Payloads, byte[]?[]? Fields) ReadSlotsBefore7(
        BinaryReader r, string path, uint version, int highWater, int count, long length)
    {
        var live = new ulong[Math.Max(1, (highWater + 63) >> 6)];
        for (int i = 0; i < (highWater + 63) >> 6; i++) live[i] = r.ReadUInt64();
        var ids = new ulong[highWater];
        for (int s = 0; s < highWater; s++) ids[s] = r.ReadUInt64();
        var segments = Array.Empty<(int, int)>();
        long[]? locations = null;
        if (version >= 2)
        {
            segments = ReadSegments(r, path, length);
            locations = new long[highWater];
            for (int s = 0; s < highWater; s++) locations[s] = r.ReadInt64();
        }
        byte[]?[]? payloads = null; // null while no slot has a payload
        byte[]?[]? fields = null;
        int row = 0;
        for (int s = 0; s < highWater; s++)
        {
            if (!SlotFile.IsLive(live, s)) continue;
            if (row >= count) throw new StoreCorruptedException(path, "snapshot live bitmap has more slots than its count");
            int plen = r.ReadInt32();
            if (plen < 0 || plen > length) throw new StoreCorruptedException(path, $"snapshot payload length {plen} is invalid");
            if (plen > 0) (payloads ??= new byte[]?[highWater])[s] = r.ReadBytes(plen);
            if (version >= 3)
            {
                int flen = r.ReadInt32();
                if (flen < 0 || flen > length) throw new StoreCorruptedException(path, $"snapshot field record length {flen} is invalid");
                if (flen > 0) (fields ??= new byte[]?[highWater])[s] = r.ReadBytes(flen);
            }
            row++;
        }
        if (row != count) throw new StoreCorruptedException(path, "snapshot live bitmap disagrees with its count");
        return (live, ids, segments, locations, payloads, fields);
    }

    /// <summary>Verifies the checksum, then reads the snapshot; any damage is a <see cref="StoreCorruptedException"/> naming the file.</summary>
    /// <remarks>A version-1 snapshot's vectors are handed to <paramref name="legacyVectors"/> (slot, vector).</remarks>
    public static Contents Read(string path, int dimension, Action<int, ReadOnlySpan<float>> legacyVectors, DistanceKind kind = DistanceKind.L2)
    {
        if (!File.Exists(path)) throw new StoreCorruptedException(path, "snapshot named in the manifest is missing");
        using var file = OpenVerified(path, out long length);
        try
        {
            return Parse(file, path, dimension, length, legacyVectors, kind);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException or ArgumentException or OverflowException or FormatException or IndexOutOfRangeException)
        {
            throw new StoreCorruptedException(path, $"snapshot body is malformed: {e.Message}", e);
        }
    }

    /// <summary>
    /// Verifies the snapshot's checksum and header (magic, version, <paramref name="dimension"/>) without reading its
    /// body; returns the log address it covers. Damage is a <see cref="StoreCorruptedException"/> naming the file.
    /// </summary>
    public static long VerifiedLogAddress(string path, int dimension)
    {
        using var file = OpenVerified(path, out _);
        var header = ReadHeader(file, path, dimension, out _);
        return BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(16));
    }

    /// <summary>
    /// Copies the snapshot at <paramref name="source"/> to <paramref name="destination"/> (a new file, fsynced) with its
    /// log address replaced by <paramref name="logAddress"/> and its footer hash computed again: a backup pairs the
    /// snapshot with a new, empty log that begins at that address (data-format.md §4.15). The source's checksum and
    /// header are verified first, so a damaged snapshot is refused naming it, never given a valid hash in the copy.
    /// Returns the live count the snapshot holds.
    /// </summary>
    public static int CopyWithLogAddress(string source, string destination, int dimension, long logAddress)
    {
        using var file = OpenVerified(source, out long length);
        var header = ReadHeader(file, source, dimension, out uint version);
        if (version != FormatVersion)
            throw new StoreCorruptedException(source, $"snapshot format version {version} is not the current {FormatVersion}: a checkpoint migrates it before a backup copies it");
        BinaryPrimitives.WriteInt64LittleEndian(header.AsSpan(16), logAddress);
        using (var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        {
            var hs = new HashingStream(output);
            hs.Write(header);
            var buffer = new byte[1 << 20];
            long remaining = length - HeaderSize - Checksums.HashFooterSize;
            while (remaining > 0)
            {
                int n = file.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
                if (n <= 0) throw new StoreCorruptedException(source, "snapshot shorter than its size");
                hs.Write(buffer, 0, n);
                remaining -= n;
            }
            Checksums.WriteHashFooter(output, hs.Hash, EndMagic);
            output.Flush(flushToDisk: true);
        }
        return BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(28));
    }

    /// <summary>Opens the snapshot, checks its size and checksum, and leaves it positioned at the start.</summary>
    private static FileStream OpenVerified(string path, out long length)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        try
        {
            length = file.Length;
            if (length < HeaderSize + FooterSize) throw new StoreCorruptedException(path, $"snapshot truncated ({length} bytes)");
            Checksums.VerifyHashFooter(file, path, length, EndMagic, "snapshot");
            file.Position = 0;
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads the header and checks its magic, format version and <paramref name="dimension"/>.</summary>
    private static byte[] ReadHeader(FileStream file, string path, int dimension, out uint version)
    {
        var header = new byte[HeaderSize];
        file.ReadExactly(header);
        if (!header.AsSpan(0, 8).SequenceEqual(Magic)) throw new StoreCorruptedException(path, "not a snapshot (bad magic)");
        version = BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(8));
        if (version > FormatVersion) throw new StoreCorruptedException(path, $"snapshot format version {version} is newer than this build supports ({FormatVersion})");
        if (version == 0) throw new StoreCorruptedException(path, "snapshot format version 0 is invalid");
        int dim = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(12));
        if (dim != dimension) throw new StoreCorruptedException(path, $"snapshot dimension {dim} differs from the collection's {dimension}");
        return header;
    }

    private static Contents Parse(FileStream file, string path, int dimension, long length, Action<int, ReadOnlySpan<float>> legacyVectors, DistanceKind kind)
    {
        var header = ReadHeader(file, path, dimension, out uint version);
        int dim = dimension;
        long logAddress = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(16));
        int highWater = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(24));
        int count = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(28));
        long vectorsLength = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(40));
        long expectedVectors = version == 1 ? (long)count * dim * sizeof(float) : 0;
        if (highWater < 0 || count < 0 || count > highWater || vectorsLength != expectedVectors || HeaderSize + vectorsLength > length)
            throw new StoreCorruptedException(path, "snapshot header counts are inconsistent");
        // The slot map follows the vectors: read it first, then stream the vectors straight into their slots.
        file.Position = HeaderSize + vectorsLength;
        using var r = new BinaryReader(file, System.Text.Encoding.UTF8, leaveOpen: true);
        if (r.ReadInt32() != highWater) throw new StoreCorruptedException(path, "snapshot high-water mark disagrees with its header");
        ulong[] live, ids;
        (int, int)[] segments;
        long[]? locations;
        byte[]?[]? payloads = null; // null while no slot has a payload (versions before 7 only)
        byte[]?[]? fields;
        PinnedFileReference? slotFile = null;
        int[] slotFileChanges = [];
        if (version >= 7)
        {
            SlotState state;
            byte mode = r.ReadByte();
            if (mode == 1) state = SlotFile.ReadSection(r, length);
            else if (mode == 2)
            {
                slotFile = PinnedFileReference.Read(r);
                var fileState = Storage.SlotFile.Read(Path.GetDirectoryName(Path.GetFullPath(path))!, slotFile.Value);
                (state, slotFileChanges) = SlotFile.ApplyChanges(fileState, r, highWater, count, length);
            }
            else throw new StoreCorruptedException(path, $"snapshot slot section kind {mode} is unknown");
            if (state.HighWater != highWater || state.Count != count) throw new StoreCorruptedException(path, "snapshot slot section disagrees with its header");
            (live, ids, locations, fields) = (state.Live, state.Ids, state.Locations, state.Fields);
            segments = ReadSegments(r, path, length);
        }
        else (live, ids, segments, locations, payloads, fields) = ReadSlotsBefore7(r, path, version, highWater, count, length);
        VectorIndex? index;
        PinnedFileReference? indexFile = null;
        int[] changedSlots = [];
        byte indexFlag = r.ReadByte();
        if (indexFlag == 2 && version >= 5)
        {
            indexFile = PinnedFileReference.Read(r);
            int n = r.ReadInt32();
            if (n < 0 || n > highWater) throw new StoreCorruptedException(path, $"snapshot lists {n} changed slots, more than its {highWater} slots");
            changedSlots = new int[n];
            for (int i = 0; i < n; i++)
            {
                changedSlots[i] = r.ReadInt32();
                if (changedSlots[i] < 0 || changedSlots[i] >= highWater || (i > 0 && changedSlots[i] <= changedSlots[i - 1]))
                    throw new StoreCorruptedException(path, $"snapshot changed slot {changedSlots[i]} is out of range or out of order");
            }
            index = Storage.IndexFile.Read(Path.GetDirectoryName(Path.GetFullPath(path))!, indexFile.Value);
            // Such an index is named with its change image (flag 3); changed slots cannot update it.
            if (index.WritesChangeImages) throw new StoreCorruptedException(path, $"snapshot names a {index.Kind} index file with changed slots instead of a change image");
        }
        else if (indexFlag == 3 && version >= 6)
        {
            indexFile = PinnedFileReference.Read(r);
            index = Storage.IndexFile.Read(Path.GetDirectoryName(Path.GetFullPath(path))!, indexFile.Value);
            if (!index.WritesChangeImages) throw new StoreCorruptedException(path, $"snapshot holds a change image for a {index.Kind} index, which writes none");
            try { index.ApplyChanges(r); }
            catch (Exception e) when (e is EndOfStreamException or InvalidDataException or ArgumentException or OverflowException or IndexOutOfRangeException)
            {
                throw new StoreCorruptedException(path, $"snapshot's index change image is malformed: {e.Message}", e);
            }
        }
        else index = SnapshotGenerations.ReadIndex(indexFlag, r, path, "index");
        var refine = version < 3 ? null : SnapshotGenerations.ReadRefine(r, highWater, kind, path, "refine");
        var generations = version < 4 ? null : SnapshotGenerations.Read(r, highWater, kind, path, length, version, dim, index is not null);
        long metaLength = r.ReadInt64();
        if (HeaderSize + vectorsLength + metaLength + 16 != length) throw new StoreCorruptedException(path, "snapshot sections do not add up to its size");
        if (version == 1)
        {
            file.Position = HeaderSize;
            var buffer = new float[Math.Max(dim, (1 << 18) / dim * dim)];
            int perBuffer = buffer.Length / dim;
            int slot = 0;
            for (int done = 0; done < count;)
            {
                int n = Math.Min(perBuffer, count - done);
                file.ReadExactly(MemoryMarshal.AsBytes(buffer.AsSpan(0, n * dim)));
                for (int i = 0; i < n; i++)
                {
                    while (!SlotFile.IsLive(live, slot)) slot++;
                    legacyVectors(slot++, buffer.AsSpan(i * dim, dim));
                }
                done += n;
            }
        }
        return new Contents
        {
            LogAddress = logAddress, HighWater = highWater, Count = count, LiveBits = live, Ids = ids, Payloads = payloads, Fields = fields, Index = index, Refine = refine,
            Version = version, Segments = segments, Locations = locations, Generations = generations, IndexFile = indexFile, ChangedSlots = changedSlots,
            SlotFile = slotFile, SlotFileChanges = slotFileChanges,
        };
    }
}
