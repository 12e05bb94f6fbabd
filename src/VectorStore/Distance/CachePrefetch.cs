using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace VectorStore.Distance;

/// <summary>
/// Software prefetch of a byte range: every cache line it touches, including the last one when the range does not
/// start on a line boundary. Only a hint: an address gone stale after a GC move costs a wasted line, never a fault;
/// without SSE (Arm64) it does nothing. Stateless and thread-safe.
/// </summary>
internal static unsafe class CachePrefetch
{
    private const int LineBytes = 64;

    /// <summary>Asks for the lines of <paramref name="bytes"/> bytes from <paramref name="start"/> into L1 (all levels).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ToL1(ref byte start, int bytes)
    {
        if (!Sse.IsSupported || bytes <= 0) return;
        byte* p = (byte*)Unsafe.AsPointer(ref start);
        for (int off = 0; off < bytes; off += LineBytes) Sse.Prefetch0(p + off);
        Sse.Prefetch0(p + bytes - 1);
    }

    /// <summary>Asks for the lines of <paramref name="bytes"/> bytes from <paramref name="start"/> into L2 (not L1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ToL2(ref byte start, int bytes)
    {
        if (!Sse.IsSupported || bytes <= 0) return;
        byte* p = (byte*)Unsafe.AsPointer(ref start);
        for (int off = 0; off < bytes; off += LineBytes) Sse.Prefetch1(p + off);
        Sse.Prefetch1(p + bytes - 1);
    }
}
