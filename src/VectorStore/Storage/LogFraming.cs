using System.Buffers.Binary;
using System.IO.Hashing;

namespace VectorStore.Storage;

/// <summary>
/// The log's own framing (format 2, data-format.md §4.2): every entry is wrapped in an envelope carrying a sequence
/// number and a CRC-32 chained over the previous entry's, so replay can prove that it read every entry from the
/// log's begin to its durable end, in order, with none skipped. FASTER cannot prove this itself: it reads a zero
/// length field as page padding and silently jumps to the next page. Also reads FASTER's entries straight from the
/// segment files, past the committed address FASTER's own scan stops at (see <see cref="ReadPast"/>).
/// Thread-safety: stateless, except a per-thread hasher.
/// </summary>
internal static class LogFraming
{
    /// <summary>Envelope bytes before the body: <c>u64 sequence</c>, <c>u32 chain</c>.</summary>
    public const int EnvelopeSize = 12;

    /// <summary>FASTER 2.6.5's per-entry header with <c>LogChecksumType.PerEntry</c>: <c>u64 checksum</c>, <c>i32 length</c>.</summary>
    public const int FasterHeaderSize = 12;

    [ThreadStatic] private static Crc32? t_hasher;

    /// <summary>
    /// A position in the chain: the sequence number the next entry must carry and the chain value of the entry
    /// before it (0 before the first entry of a log).
    /// </summary>
    public readonly record struct Point(ulong Sequence, uint Chain)
    {
        /// <summary>The position before the first entry of a new log.</summary>
        public static Point Start => new(1, 0);
    }

    /// <summary>
    /// The chain value of an entry: CRC-32 of its sequence number (u64 LE), the previous entry's chain value (u32
    /// LE) and its body. Covering the previous value makes an entry valid only right after the entry it followed
    /// when written, so stale entries of an earlier run left past the tail never pass as a continuation.
    /// </summary>
    public static uint ChainValue(ulong sequence, uint previous, ReadOnlySpan<byte> body)
    {
        var h = t_hasher ??= new Crc32();
        h.Reset();
        Span<byte> head = stackalloc byte[12];
        BinaryPrimitives.WriteUInt64LittleEndian(head, sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(head[8..], previous);
        h.Append(head);
        h.Append(body);
        return h.GetCurrentHashAsUInt32();
    }

    /// <summary>The position after <paramref name="body"/> is written at <paramref name="at"/>.</summary>
    public static Point Next(Point at, ReadOnlySpan<byte> body) => new(at.Sequence + 1, ChainValue(at.Sequence, at.Chain, body));

    /// <summary>
    /// Writes the envelope of the entry written at <paramref name="at"/> (whose position after it is
    /// <paramref name="next"/>) plus its body into <paramref name="destination"/>.
    /// </summary>
    public static void Wrap(Span<byte> destination, Point at, Point next, ReadOnlySpan<byte> body)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, at.Sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], next.Chain);
        body.CopyTo(destination[EnvelopeSize..]);
    }

    /// <summary>The sequence number an entry carries (0 when it is too short to carry one).</summary>
    public static ulong SequenceOf(ReadOnlySpan<byte> entry) =>
        entry.Length < EnvelopeSize ? 0 : BinaryPrimitives.ReadUInt64LittleEndian(entry);

    /// <summary>Whether <paramref name="entry"/> is the entry that follows <paramref name="at"/>; if so, <paramref name="next"/> is the position after it.</summary>
    public static bool Continues(ReadOnlySpan<byte> entry, Point at, out Point next)
    {
        next = at;
        if (entry.Length < EnvelopeSize || SequenceOf(entry) != at.Sequence) return false;
        var after = Next(at, entry[EnvelopeSize..]);
        if (after.Chain != BinaryPrimitives.ReadUInt32LittleEndian(entry[8..])) return false;
        next = after;
        return true;
    }

    /// <summary>FASTER's rounding of an entry's length (bodies are padded to 4 bytes).</summary>
    public static int Align(int length) => (length + 3) & ~3;

    /// <summary>
    /// Entries as FASTER laid them out in the segment files, from <paramref name="from"/> on, read without FASTER:
    /// its scan never passes its committed address, but entries a lost commit-metadata slot no longer covers are
    /// still there. The layout rules are FASTER 2.6.5's (FasterLogScanIterator.GetNextInternal): a 12-byte header
    /// (checksum, then length) and the body padded to 4 bytes; an entry never crosses a page; a zero length means the
    /// rest of the page is padding, and at a page's first byte it means the log ends. Stops at the first entry that
    /// cannot be read (missing file, impossible length); the caller checks each entry's envelope.
    /// </summary>
    public static IEnumerable<(long Address, byte[] Entry, long Next)> ReadPast(Func<long, string> segmentPath, WalSettings settings, long from)
    {
        long pageSize = 1L << settings.PageSizeBits;
        long segmentMask = (1L << settings.SegmentSizeBits) - 1;
        long address = from;
        var header = new byte[FasterHeaderSize];
        while (true)
        {
            long inPage = address & (pageSize - 1);
            long nextPage = address - inPage + pageSize;
            if (inPage + FasterHeaderSize > pageSize)
            {
                address = nextPage;
                continue;
            }
            string path = segmentPath(address);
            if (!File.Exists(path)) yield break;
            byte[] entry;
            int length;
            using (var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                long offset = address & segmentMask;
                if (RandomAccess.Read(handle, header, offset) < FasterHeaderSize) yield break;
                length = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(8));
                if (length == 0)
                {
                    if (inPage == 0) yield break;
                    address = nextPage;
                    continue;
                }
                if (length < 0 || inPage + FasterHeaderSize + Align(length) > pageSize) yield break;
                entry = new byte[length];
                if (RandomAccess.Read(handle, entry, offset + FasterHeaderSize) < length) yield break;
            }
            long next = address + FasterHeaderSize + Align(length);
            yield return (address, entry, next);
            address = next;
        }
    }
}
