using System.Runtime.InteropServices;

namespace VectorStore.Memory;

/// <summary>
/// The C library's heap, which the runtime, FASTER's threads and the sockets allocate from outside the managed heap.
/// glibc keeps what they free inside its arenas (one per thread that allocated, up to eight per core) and gives it back
/// to the system only from the top of the main heap: a load that ran on many pool threads leaves a few MiB of free
/// arena memory resident for good. <see cref="Trim"/> returns every whole free page of every arena
/// (<c>malloc_trim(0)</c>, glibc 2.8 and later) for a process going idle. Thread-safe (glibc locks each arena).
/// </summary>
internal static partial class NativeHeap
{
    private static bool s_unavailable;

    /// <summary>
    /// Returns the C heap's free pages to the system; true when the C library did (false: nothing to give back, not
    /// glibc — musl has no <c>malloc_trim</c> and keeps little free memory anyway —, or not Linux). Costs a walk over
    /// the arenas' free lists: for a process going quiet, not for a hot path.
    /// </summary>
    public static bool Trim()
    {
        if (!OperatingSystem.IsLinux() || Volatile.Read(ref s_unavailable)) return false;
        try
        {
            return malloc_trim(0) != 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Volatile.Write(ref s_unavailable, true);
            return false;
        }
    }

    [LibraryImport("libc")]
    private static partial int malloc_trim(nuint pad);
}
