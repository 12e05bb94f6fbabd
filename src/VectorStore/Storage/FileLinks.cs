using System.Runtime.InteropServices;

namespace VectorStore.Storage;

/// <summary>
/// Hard links for incremental backups: a sealed file a previous backup already holds is linked into the new one
/// instead of copied. Thread-safe (stateless).
/// </summary>
internal static partial class FileLinks
{
    private const int Chunk = 1 << 20;

    /// <summary>
    /// Whether <paramref name="candidate"/> holds byte for byte what <paramref name="source"/> holds. Whole files are
    /// compared: a segment's footer hashes only its row table, so comparing lengths and edges let a previous backup's
    /// damaged vector row be linked into a new backup of a healthy database. Any error reading either answers false
    /// (the file is copied).
    /// </summary>
    public static bool SameContent(string source, string candidate)
    {
        byte[] x = System.Buffers.ArrayPool<byte>.Shared.Rent(Chunk), y = System.Buffers.ArrayPool<byte>.Shared.Rent(Chunk);
        try
        {
            using var a = File.OpenHandle(source, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var b = File.OpenHandle(candidate, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            long length = RandomAccess.GetLength(a);
            if (RandomAccess.GetLength(b) != length) return false;
            for (long offset = 0; offset < length; offset += Chunk)
            {
                int count = (int)Math.Min(Chunk, length - offset);
                if (!ReadExactly(a, x.AsSpan(0, count), offset) || !ReadExactly(b, y.AsSpan(0, count), offset)) return false;
                if (!x.AsSpan(0, count).SequenceEqual(y.AsSpan(0, count))) return false;
            }
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(x);
            System.Buffers.ArrayPool<byte>.Shared.Return(y);
        }
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
