using System.Globalization;

namespace VectorStore.Evaluation;

/// <summary>
/// What a process actually holds, read from Linux's <c>/proc/PID/status</c>: anonymous resident memory (heap, stacks,
/// anonymous mappings — not file-backed pages such as memory-mapped segments or the runtime's own DLLs, which the
/// kernel can drop and re-read). Memory claims are measured with this, never computed from sizes. Thread-safe.
/// </summary>
public static class ProcessMemory
{
    /// <summary>Anonymous resident bytes of <paramref name="pid"/> (default: this process), or -1 where /proc is absent.</summary>
    public static long AnonymousRssBytes(int? pid = null) => StatusKilobytes(pid, "RssAnon:") is long kb and >= 0 ? kb * 1024 : -1;

    /// <summary>Total resident bytes (anonymous + file-backed + shared) of <paramref name="pid"/>, or -1.</summary>
    public static long RssBytes(int? pid = null) => StatusKilobytes(pid, "VmRSS:") is long kb and >= 0 ? kb * 1024 : -1;

    /// <summary>Peak total resident bytes of <paramref name="pid"/> (the kernel's high-water mark), or -1.</summary>
    public static long PeakRssBytes(int? pid = null) => StatusKilobytes(pid, "VmHWM:") is long kb and >= 0 ? kb * 1024 : -1;

    /// <summary>
    /// Anonymous resident bytes after a full blocking, compacting collection: what the process holds once garbage
    /// that merely has not been collected yet is gone. Use it after warm-up.
    /// </summary>
    public static long SettledAnonymousRssBytes()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return AnonymousRssBytes();
    }

    private static long StatusKilobytes(int? pid, string key)
    {
        string path = $"/proc/{(pid is { } p ? p.ToString(CultureInfo.InvariantCulture) : "self")}/status";
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                if (!line.StartsWith(key, StringComparison.Ordinal)) continue;
                var parts = line[key.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.Parse(parts[0], CultureInfo.InvariantCulture);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        return -1;
    }
}
