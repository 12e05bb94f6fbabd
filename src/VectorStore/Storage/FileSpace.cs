using System.Runtime.InteropServices;

namespace VectorStore.Storage;

/// <summary>
/// Disk space of files as the file system allocates it: punching holes into the truncated prefix of a log segment
/// (which FASTER only deletes once the whole segment is behind the log's begin address), and measuring allocated
/// bytes rather than apparent lengths. Linux (x64, arm64, glibc ≥ 2.33); elsewhere a no-op and the apparent length.
/// Thread-safe (stateless).
/// </summary>
internal static unsafe partial class FileSpace
{
    private const int FallocKeepSize = 0x01, FallocPunchHole = 0x02;
    private static bool s_unavailable = !OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64);

    /// <summary>
    /// Allocated bytes of every file under <paramref name="directory"/> except <paramref name="skip"/> (a file deleted
    /// while counting counts nothing).
    /// </summary>
    public static long DirectoryBytes(string directory, IReadOnlySet<string>? skip = null)
    {
        long total = 0;
        foreach (var f in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            if (skip is not null && skip.Contains(f)) continue;
            try { total += AllocatedBytes(f); }
            catch (FileNotFoundException) { }
        }
        return total;
    }

    /// <summary>Releases the blocks of [0, <paramref name="length"/> rounded down to 4 KiB) of <paramref name="path"/>, keeping its size.</summary>
    public static void PunchPrefix(string path, long length)
    {
        length &= ~4095L;
        if (s_unavailable || length <= 0 || !File.Exists(path)) return;
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            // A failure (a file system without hole punching) only leaves the space allocated.
            _ = Fallocate((int)handle.DangerousGetHandle(), FallocKeepSize | FallocPunchHole, 0, length);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or EntryPointNotFoundException or DllNotFoundException)
        {
        }
    }

    /// <summary>Bytes the file system allocates for <paramref name="path"/> (its length where that cannot be asked).</summary>
    public static long AllocatedBytes(string path)
    {
        long length = new FileInfo(path).Length;
        if (s_unavailable) return length;
        try
        {
            // struct stat: st_blocks (512-byte units) is at offset 64 on both x86-64 and the generic arm64 layout.
            var buffer = stackalloc byte[256];
            if (Stat(path, buffer) != 0) return length;
            return *(long*)(buffer + 64) * 512;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            s_unavailable = true;
            return length;
        }
    }

    /// <summary>Bytes an unprivileged writer can still allocate on the file system holding <paramref name="path"/> (long.MaxValue when it cannot be asked).</summary>
    public static long AvailableBytes(string path)
    {
        try { return new DriveInfo(Path.GetFullPath(path)).AvailableFreeSpace; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return long.MaxValue;
        }
    }

    /// <summary>Whether <paramref name="e"/> (or an exception inside it) is the OS reporting a full disk (ENOSPC, ERROR_DISK_FULL).</summary>
    public static bool IsNoSpace(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is IOException io && (io.HResult == 28 || io.HResult == unchecked((int)0x80070070) || io.HResult == unchecked((int)0x80070027)
                || io.Message.Contains("No space left on device", StringComparison.Ordinal)))
                return true;
        }
        return false;
    }

    /// <summary>
    /// The typed error for a file-system failure <paramref name="e"/> while <paramref name="doing"/> at
    /// <paramref name="path"/>: <see cref="StorageFullException"/> for a full disk, else <see cref="StorageIoException"/>.
    /// </summary>
    public static VectorStoreException Failure(Exception e, string path, string doing) => IsNoSpace(e)
        ? new StorageFullException(path, $"{doing} failed: no space left on device ({e.Message})", e)
        : new StorageIoException(path, $"{doing} failed: {e.Message}", e);

    [LibraryImport("libc", EntryPoint = "fallocate", SetLastError = true)]
    private static partial int Fallocate(int fd, int mode, long offset, long length);

    [LibraryImport("libc", EntryPoint = "stat", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Stat(string path, byte* buffer);
}
