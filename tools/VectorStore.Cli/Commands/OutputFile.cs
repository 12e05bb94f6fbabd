namespace VectorStore.Cli.Commands;

/// <summary>
/// A file a command writes for the user (<c>search --out</c>, <c>export</c>'s outputs), written under a temporary name
/// in the destination's directory and renamed over the destination by <see cref="Commit"/>. A command that fails
/// midway (an id that does not fit the format, a lost server, a full disk) would otherwise leave an empty or partial
/// file that looks like a result; this way the destination holds either the whole output or whatever it held before,
/// and <see cref="Dispose"/> removes the temporary file. The same directory keeps the rename on one file system.
/// </summary>
internal sealed class OutputFile : IDisposable
{
    private readonly string _path;
    // Null when writing straight to the destination (see Direct).
    private readonly string? _temporary;
    private bool _committed;

    /// <summary>Creates the temporary file beside <paramref name="path"/>; a directory that cannot be written is an IO error naming <paramref name="path"/>.</summary>
    public OutputFile(string path, int bufferSize = 1 << 16)
    {
        _path = Path.GetFullPath(path);
        // Hidden and random, so it clashes neither with the user's files nor with a concurrent run's.
        _temporary = Direct(_path) ? null : Path.Combine(Path.GetDirectoryName(_path)!, $".{Path.GetFileName(_path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            Stream = _temporary is null
                ? new FileStream(_path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize)
                : new FileStream(_temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The temporary name means nothing to the user: report the file they asked for.
            string reason = e switch
            {
                DirectoryNotFoundException => "its directory does not exist",
                UnauthorizedAccessException => "access denied",
                _ => e.Message,
            };
            throw new IOException($"cannot write {path}: {reason}", e);
        }
    }

    /// <summary>
    /// Whether to write to <paramref name="path"/> itself: a symbolic link (the rename would replace the link, not
    /// write where it points) or a device such as <c>/dev/stdout</c> or <c>/dev/null</c> (no temporary file can sit
    /// beside it, and renaming over it is not writing to it). Such a destination gets what was written before a failure.
    /// </summary>
    private static bool Direct(string path)
    {
        if (path.StartsWith("/dev/", StringComparison.Ordinal) || path.StartsWith("/proc/", StringComparison.Ordinal)) return true;
        var info = new FileInfo(path);
        return info.Exists && info.LinkTarget is not null;
    }

    /// <summary>
    /// Refuses (a usage error) two outputs of one command that name the same file, by full path with a symbolic link
    /// followed to what it names: each would be written under its own temporary name and the later rename would
    /// silently replace the other's output, and a device such as <c>/dev/null</c> cannot be opened twice for writing.
    /// A directory reached through a link in the path is not resolved. Null paths (outputs not asked for) are skipped.
    /// </summary>
    public static void RequireDistinct(params (string Flag, string? Path)[] outputs)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (flag, path) in outputs)
        {
            if (path is null) continue;
            string identity = Identity(path);
            if (!seen.TryAdd(identity, flag))
                throw new UsageException($"{seen[identity]} and {flag} name the same file ({identity}); give each output a file of its own");
        }
    }

    private static string Identity(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            return new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
        }
        catch (IOException)
        {
            // A link loop or an unreadable link: the path as given is all there is to compare, and opening it reports the rest.
            return full;
        }
    }

    /// <summary>The temporary file (or the destination itself, see <see cref="Direct"/>); writers over it must be closed before <see cref="Commit"/>.</summary>
    public FileStream Stream { get; }

    /// <summary>Closes the temporary file and moves it over the destination.</summary>
    public void Commit()
    {
        Stream.Dispose();
        if (_temporary is not null) File.Move(_temporary, _path, overwrite: true);
        _committed = true;
    }

    /// <summary>Closes the temporary file and, unless committed, deletes it.</summary>
    public void Dispose()
    {
        Stream.Dispose();
        if (_committed || _temporary is null) return;
        try
        {
            File.Delete(_temporary);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the command's own error is the one to report, and a stray hidden file does not pass for output.
        }
    }
}
