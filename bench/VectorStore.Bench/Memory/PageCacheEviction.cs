using System.Runtime.InteropServices;

namespace VectorStore.Bench.Memory;

/// <summary>
/// Drops a database directory's files from the OS page cache (<c>posix_fadvise(POSIX_FADV_DONTNEED)</c> per file;
/// Linux, a no-op elsewhere) before a capped child opens it. Pages the loader left cached are charged to the loader's
/// cgroup, not the child's: without this the capped child would read them for free and the cap would not bind.
/// Only clean pages are dropped: the database must be closed (a closed database has fsynced everything it wrote).
/// Thread-safe (stateless).
/// </summary>
public static partial class PageCacheEviction
{
    private const int PosixFadvDontNeed = 4;

    /// <summary>Evicts every file under <paramref name="directory"/>; returns the bytes advised.</summary>
    public static long Evict(string directory)
    {
        if (!OperatingSystem.IsLinux()) return 0;
        long bytes = 0;
        foreach (var path in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            long length = RandomAccess.GetLength(handle);
            _ = Fadvise((int)handle.DangerousGetHandle(), 0, length, PosixFadvDontNeed);
            bytes += length;
        }
        return bytes;
    }

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int Fadvise(int fd, long offset, long length, int advice);
}
