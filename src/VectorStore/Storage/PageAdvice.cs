using System.Runtime.InteropServices;

namespace VectorStore.Storage;

/// <summary>
/// <c>madvise</c> hints for memory-mapped segments (Linux; a no-op elsewhere). Hints never change results: a failed
/// call is ignored. Thread-safe (stateless).
/// </summary>
internal static unsafe partial class PageAdvice
{
    private const int MadvRandom = 1;
    private const int MadvWillNeed = 3;
    private const long PageSize = 4096;

    /// <summary>No read-ahead around faults in [p, p + length).</summary>
    public static void Random(byte* p, long length) => Advise(p, length, MadvRandom);

    /// <summary>Start reading [p, p + length) in the background.</summary>
    public static void WillNeed(byte* p, long length) => Advise(p, length, MadvWillNeed);

    private static void Advise(byte* p, long length, int advice)
    {
        if (!OperatingSystem.IsLinux() || length <= 0) return;
        long start = (long)p & ~(PageSize - 1);
        long end = (long)p + length;
        _ = Madvise((nint)start, (nuint)(end - start), advice);
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
