using System.Globalization;

namespace VectorStore.Bench.Memory;

/// <summary>
/// A Linux cgroup v1 memory group with a hard limit (<c>memory.limit_in_bytes</c>, which counts page cache as well
/// as anonymous memory), for showing a memory claim under a real cap. Needs root and the v1 memory controller at
/// /sys/fs/cgroup/memory. A process joins by writing its pid to <c>cgroup.procs</c>; <see cref="Wrap"/> builds a
/// shell command that joins and then execs, so every byte the measured program allocates is inside the group.
/// Not thread-safe; dispose after its processes have exited.
/// </summary>
public sealed class MemoryCgroup : IDisposable
{
    private const string Root = "/sys/fs/cgroup/memory";

    /// <summary>The group's directory.</summary>
    public string Path { get; }

    /// <summary>The limit in bytes.</summary>
    public long LimitBytes { get; }

    private MemoryCgroup(string path, long limit)
    {
        Path = path;
        LimitBytes = limit;
    }

    /// <summary>Whether the v1 memory controller is mounted and writable here.</summary>
    public static bool Available => Directory.Exists(Root) && File.Exists(System.IO.Path.Combine(Root, "memory.limit_in_bytes"));

    /// <summary>Creates group <paramref name="name"/> with a hard limit of <paramref name="limitBytes"/> (swap disabled for it).</summary>
    public static MemoryCgroup Create(string name, long limitBytes)
    {
        if (!Available) throw new InvalidOperationException($"no cgroup v1 memory controller at {Root}");
        string path = System.IO.Path.Combine(Root, name);
        Directory.CreateDirectory(path);
        File.WriteAllText(System.IO.Path.Combine(path, "memory.limit_in_bytes"), limitBytes.ToString(CultureInfo.InvariantCulture));
        // Without this the kernel could push anonymous pages to swap and the cap would measure nothing.
        TryWrite(System.IO.Path.Combine(path, "memory.swappiness"), "0");
        return new MemoryCgroup(path, limitBytes);
    }

    /// <summary>A <c>sh -c</c> argument list that moves the shell into this group and execs <paramref name="command"/>.</summary>
    public string[] Wrap(string command) =>
        ["-c", $"echo $$ > {System.IO.Path.Combine(Path, "cgroup.procs")} && exec {command}"];

    /// <summary>The group's peak usage (anonymous + page cache) in bytes.</summary>
    public long MaxUsageBytes => ReadLong("memory.max_usage_in_bytes");

    /// <summary>How many times usage hit the limit (the kernel then reclaimed page cache or OOM-killed).</summary>
    public long FailCount => ReadLong("memory.failcnt");

    /// <summary>OOM kills inside the group (0 when the kernel does not report it).</summary>
    public long OomKills
    {
        get
        {
            try
            {
                foreach (var line in File.ReadLines(System.IO.Path.Combine(Path, "memory.oom_control")))
                    if (line.StartsWith("oom_kill ", StringComparison.Ordinal)) return long.Parse(line[9..], CultureInfo.InvariantCulture);
            }
            catch (IOException) { }
            return 0;
        }
    }

    private long ReadLong(string file) => long.Parse(File.ReadAllText(System.IO.Path.Combine(Path, file)).Trim(), CultureInfo.InvariantCulture);

    private static void TryWrite(string path, string value)
    {
        try { File.WriteAllText(path, value); }
        catch (IOException) { }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // rmdir succeeds only once the group is empty; a leftover group is harmless and reported.
        try { Directory.Delete(Path); }
        catch (IOException e) { Console.Error.WriteLine($"# could not remove cgroup {Path}: {e.Message}"); }
    }
}
