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
/// nothing new behind.
/// </summary>
/// <remarks>
/// Only pages holding nothing but zeros are discarded, and a discarded page reads as zeros, so the buffer's contents do
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
                long released = 0;
                foreach (var page in PagesOf(AllocatorOf(_log)))
                    if (page is not null) released += HugePageArray.DiscardZeroPages(page);
                return released;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A FASTER whose internals moved: the buffer stays as FASTER left it, which costs memory, nothing else.
                Volatile.Write(ref s_bufferUnreachable, true);
                return 0;
            }
        }
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
}
