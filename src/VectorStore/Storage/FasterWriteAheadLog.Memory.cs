using System.Reflection;
using System.Runtime.CompilerServices;
using FASTER.core;
using VectorStore.Memory;

namespace VectorStore.Storage;

/// <summary>
/// The memory of the log's page buffer while the log is quiet. FASTER allocates its whole buffer
/// (<see cref="WalSettings.MemorySizeBits"/>, two 4 MiB pages) when it opens a log and clears every page with
/// <c>Array.Clear</c>, which makes all of it resident at once: 8.4 MB per open collection whether it is written or not,
/// and most of it zeros (the page after the tail, and the tail page past the tail). A cluster silo holding a few shard
/// copies, or an application with many small collections, paid more for these buffers than for its vectors
/// (notes/issue-19-throughput.md). FASTER offers no way to size or release them, so the zero pages are given back here
/// once the log is quiet: when it opens (or reopens after a failed write), and after a background checkpoint that left
/// nothing new behind. So are the tail page's entries that a checkpoint's truncation left below FASTER's closed
/// address (up to 4 MiB per quiet collection; see <see cref="ReleaseClosedTail"/>).
/// </summary>
/// <remarks>
/// Zero pages: a discarded page reads as zeros, so the buffer's contents do
/// not change. What must not happen is a non-zero write into a page between its check and its discard: every write of
/// entries into the buffer is an <see cref="Append"/>, which this excludes with its gate; FASTER itself writes the
/// buffer otherwise only to clear a page (zeros) or to read the tail page back while it opens the log (before this
/// runs). Appending after a discard faults the pages in again, as a fresh buffer would.
/// FASTER keeps the buffer in a private field of an internal type, reached here by FASTER 2.6.5's names (reflection
/// for the buffer's owner, an unsafe accessor for the pages). Should a FASTER upgrade rename them, the release turns
/// itself off (the buffer then stays as FASTER left it) and <c>LogBufferMemoryTests</c> fails.
/// </remarks>
internal sealed partial class FasterWriteAheadLog
{
    private const string AllocatorBaseType =
        "FASTER.core.AllocatorBase`2[[FASTER.core.Empty, FASTER.core],[System.Byte, System.Private.CoreLib]], FASTER.core";

    private const string AllocatorType =
        "FASTER.core.BlittableAllocator`2[[FASTER.core.Empty, FASTER.core],[System.Byte, System.Private.CoreLib]], FASTER.core";

    private static bool s_bufferUnreachable;

    /// <summary>
    /// Returns the all-zero pages of FASTER's page buffer to the system; returns how many bytes were released (0 when
    /// the log is read-only, closed, or the buffer unreachable). Safe at any time; pays off when no appends follow soon.
    /// </summary>
    public long ReleaseUnusedBuffer()
    {
        if (_readOnly || Volatile.Read(ref s_bufferUnreachable)) return 0;
        lock (_appendGate)
        {
            if (_disposed) return 0;
            try
            {
                var allocator = AllocatorOf(_log);
                var pages = PagesOf(allocator);
                long released = 0;
                foreach (var page in pages)
                    if (page is not null) released += HugePageArray.DiscardZeroPages(page);
                return released + ReleaseClosedTail(allocator, pages);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A FASTER whose internals moved: the buffer stays as FASTER left it, which costs memory, nothing else.
                Volatile.Write(ref s_bufferUnreachable, true);
                return 0;
            }
        }
    }

    /// <summary>
    /// The tail page's entries below the address FASTER has closed (a checkpoint's truncation moves it up to the
    /// checkpoint) and flushed: FASTER reads what lies below its head address from the segment files, never from the
    /// buffer, and its next flush of the tail page rewrites from the device sector holding the flushed address on
    /// (AllocatorBase.WriteAsync, partial pages), so those bytes are never read from memory again. A quiet collection
    /// kept up to a page (4 MiB) of them resident, half a page on average. The page is cleared when FASTER closes it
    /// whole, which this does not change: discarded bytes read as zeros too. And above all: FASTER's closed address only
    /// enters the tail page through a truncation (a page change moves it to the old tail page's start; recovery to the
    /// tail page's start or the begin address), where it equals the begin address, so every discarded byte belongs to an
    /// entry a checkpoint already covers. Caller holds <see cref="_appendGate"/>.
    /// </summary>
    private long ReleaseClosedTail(object allocator, byte[]?[] pages)
    {
        long closed = Volatile.Read(ref ClosedUntilOf(allocator)), flushed = Volatile.Read(ref FlushedUntilOf(allocator));
        int bits = _settings.PageSizeBits;
        long tail = _log.TailAddress, pageStart = tail >> bits << bits;
        long sector = Math.Max(_device.SectorSize, 1);
        long until = (Math.Min(closed, flushed) - pageStart) / sector * sector;
        if (until <= 0) return 0;
        int slot = (int)((tail >> bits) % pages.Length);
        var page = pages[slot];
        if (page is null) return 0;
        // FASTER aligns each page's start inside its array (BlittableAllocator.AllocatePage): its pointer, not the array's.
        return HugePageArray.DiscardPages(page, (nint)PointersOf(allocator)[slot], Math.Min(until, 1L << bits));
    }

    /// <summary>FASTER's page buffer as it is now (for tests that look at its residency).</summary>
    internal byte[][] BufferPages()
    {
        lock (_appendGate) return [.. PagesOf(AllocatorOf(_log)).OfType<byte[]>()];
    }

    // The field's type is internal to FASTER, which an unsafe accessor cannot return (it can take it as an argument);
    // it is checked against the accessor's type, as the accessor below does not check the object it is given.
    private static readonly FieldInfo? s_allocator = typeof(FasterLog).GetField("allocator", BindingFlags.NonPublic | BindingFlags.Instance) is { } f
        && f.FieldType == Type.GetType(AllocatorType) ? f : null;

    private static object AllocatorOf(FasterLog log) =>
        s_allocator?.GetValue(log) ?? throw new MissingFieldException(nameof(FasterLog), "allocator");

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "values")]
    private static extern ref byte[]?[] PagesOf([UnsafeAccessorType(AllocatorType)] object allocator);

    // Where each page's bytes start: FASTER aligns them to the device's sector inside the array.
    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "pointers")]
    private static extern ref long[] PointersOf([UnsafeAccessorType(AllocatorType)] object allocator);

    // Fields of the allocator's (internal) base type.
    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "ClosedUntilAddress")]
    private static extern ref long ClosedUntilOf([UnsafeAccessorType(AllocatorBaseType)] object allocator);

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "FlushedUntilAddress")]
    private static extern ref long FlushedUntilOf([UnsafeAccessorType(AllocatorBaseType)] object allocator);
}
