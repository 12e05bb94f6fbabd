using System.Runtime.InteropServices;

namespace VectorStore.Storage;

/// <summary>
/// Hard links for incremental backups: a sealed file a previous backup already holds is linked into the new one
/// instead of copied. Thread-safe (stateless).
/// </summary>
internal static partial class FileLinks
{
    private const int Edge = 4096;

    /// <summary>
    /// Whether <paramref name="candidate"/> holds what <paramref name="source"/> holds, judged by length and the first
    /// and last 4 KiB: every file this is asked about (segments, index, slot, drift baseline and tuning files) is
    /// written once and ends in a footer hashing its body, so equal edges of equal lengths mean equal files short of a
    /// hash collision. Any error reading either answers false (the file is copied).
    /// </summary>
    public static bool SameContent(string source, string candidate)
    {
        try
        {
            using var a = File.OpenHandle(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var b = File.OpenHandle(candidate, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            long length = RandomAccess.GetLength(a);
            if (RandomAccess.GetLength(b) != length) return false;
            if (!SameRange(a, b, 0, (int)Math.Min(Edge, length))) return false;
            long tail = Math.Max(Edge, length - Edge);
            return tail >= length || SameRange(a, b, tail, (int)(length - tail));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool SameRange(Microsoft.Win32.SafeHandles.SafeFileHandle a, Microsoft.Win32.SafeHandles.SafeFileHandle b, long offset, int count)
    {
        Span<byte> x = stackalloc byte[Edge], y = stackalloc byte[Edge];
        return ReadExactly(a, x[..count], offset) && ReadExactly(b, y[..count], offset) && x[..count].SequenceEqual(y[..count]);
    }

    private static bool ReadExactly(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Span<byte> buffer, long offset)
    {
        for (int done = 0; done < buffer.Length;)
        {
            int n = RandomAccess.Read(handle, buffer[done..], offset + done);
            if (n == 0) return false;
            done += n;
        }
        return true;
    }

    /// <summary>
    /// Makes <paramref name="link"/> a hard link to <paramref name="existing"/>; false where that cannot be done (another
    /// file system, a file system without hard links, the link limit, not Linux or macOS): the caller copies instead.
    /// </summary>
    public static bool TryHardLink(string existing, string link)
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) return false;
        try
        {
            return Link(existing, link) == 0;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existing, string link);
}
