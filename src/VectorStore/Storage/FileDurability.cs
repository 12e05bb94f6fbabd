using System.Runtime.InteropServices;

namespace VectorStore.Storage;

/// <summary>
/// fsync helpers. FASTER never fsyncs, and a rename is only durable once its directory is synced, so every durable
/// step of the storage engine goes through here, and so do other durable files beside it (the cluster's grain
/// storage). Thread-safe (stateless).
/// </summary>
public static partial class FileDurability
{
    /// <summary>Flushes the file's data and metadata to the device.</summary>
    public static void FsyncFile(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        RandomAccess.FlushToDisk(handle);
    }

    /// <summary>
    /// <see cref="FsyncFile"/> through a read-only handle, for a file this process may read but not write (a previous
    /// backup's, kept read-only by its owner).
    /// </summary>
    internal static void FsyncReadOnly(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        RandomAccess.FlushToDisk(handle);
    }

    /// <summary>
    /// Makes creations, renames and deletions inside <paramref name="directory"/> durable. .NET cannot open a
    /// directory as a file, so on Unix this calls open(2)/fsync(2) directly; Windows has no directory fsync
    /// (NTFS journals metadata), so it is a no-op there.
    /// </summary>
    public static void FsyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        int fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0) throw new IOException($"{directory}: cannot open directory for fsync (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"{directory}: directory fsync failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="bytes"/> atomically: write a temporary file, fsync it,
    /// rename it over the target, fsync the directory. A crash leaves either the old or the new content.
    /// </summary>
    public static void WriteAtomic(string path, ReadOnlySpan<byte> bytes)
    {
        // A span cannot enter the lambda; the array is as large as the write.
        var copy = bytes.ToArray();
        Replace(path, tmp =>
        {
            using var handle = File.OpenHandle(tmp, FileMode.Create, FileAccess.Write, FileShare.None);
            RandomAccess.Write(handle, copy, 0);
            RandomAccess.FlushToDisk(handle);
        });
    }

    /// <summary>
    /// Replaces <paramref name="path"/> with what <paramref name="writeTemporary"/> writes (and fsyncs) into the
    /// temporary file it is given, <c>path.tmp</c>: renamed over the target, then the directory fsynced, so a crash
    /// leaves the old or the new content. A write that throws deletes the temporary file before the error goes on: on
    /// a full disk a half-written segment or snapshot would otherwise hold the space until the next open's cleanup,
    /// and every retry in between (the close's snapshot, an idle checkpoint) would find it full again.
    /// </summary>
    internal static void Replace(string path, Action<string> writeTemporary)
    {
        string tmp = path + ".tmp";
        try { writeTemporary(tmp); }
        catch
        {
            try { File.Delete(tmp); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // the open's cleanup removes it
            throw;
        }
        File.Move(tmp, path, overwrite: true);
        FsyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>
    /// Whether <paramref name="path"/> is <paramref name="directory"/> or lies inside it, compared by real paths
    /// (<see cref="RealPath"/>), so a symbolic link cannot get around the check (a backup must never land inside the
    /// database it copies). Neither needs to exist yet.
    /// </summary>
    public static bool IsWithin(string path, string directory) =>
        (RealPath(path) + Path.DirectorySeparatorChar).StartsWith(RealPath(directory) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>
    /// The full path of <paramref name="path"/> with every symbolic link resolved (realpath(3) on Unix); a path that does
    /// not exist yet is resolved up to its deepest existing ancestor and the rest appended. Where realpath is not
    /// available, <see cref="Path.GetFullPath(string)"/>.
    /// </summary>
    private static string RealPath(string path)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (OperatingSystem.IsWindows()) return full;
        string existing = full, rest = "";
        while (!Directory.Exists(existing) && !File.Exists(existing))
        {
            string? parent = Path.GetDirectoryName(existing);
            if (parent is null) return full;
            rest = rest.Length == 0 ? Path.GetFileName(existing) : Path.Combine(Path.GetFileName(existing), rest);
            existing = parent;
        }
        nint resolved = RealPathNative(existing, 0);
        if (resolved == 0) return full;
        try
        {
            string real = Marshal.PtrToStringUTF8(resolved) ?? existing;
            return rest.Length == 0 ? real : Path.Combine(real, rest);
        }
        finally
        {
            Free(resolved);
        }
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathNative(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
