using VectorStore.Evaluation;
using Xunit;

namespace VectorStore.Tests;

/// <summary>Shared datasets for tests: real ones when <c>../shared/data</c> exists, else a skip with the reason.</summary>
public static class TestData
{
    public const string TextSet = "debdesc-minilm384-public";
    public const string Sift = "sift10k";

    private static readonly Dictionary<string, Dataset> s_cache = [];

    /// <summary>The shared dataset, or a skip naming what is missing. Cached per process.</summary>
    public static Dataset RequireShared(string name, int maxBase = int.MaxValue, int maxQueries = int.MaxValue)
    {
        var dir = Dataset.FindShared(name);
        Skip.If(dir is null, $"../shared/data/{name} is not present; this test needs the real dataset");
        lock (s_cache)
        {
            string key = $"{name}/{maxBase}/{maxQueries}";
            if (!s_cache.TryGetValue(key, out var ds)) s_cache[key] = ds = Dataset.LoadTexmex(dir!, maxBase, maxQueries);
            return ds;
        }
    }

    /// <summary>
    /// A fresh temporary directory under this test process's own root, which goes when the process exits (and, if it
    /// was killed, at the start of the next test process). Directories a test did not remove used to stay: a machine
    /// that ran the suite a few dozen times held 34 GB of them in /tmp.
    /// </summary>
    public static string TempDir()
    {
        var d = Path.Combine(s_runRoot.Value, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }

    private static readonly Lazy<string> s_runRoot = new(CreateRunRoot);

    /// <summary>
    /// <c>vectorstore-tests/run-PID-START</c>, deleted on exit; roots of test processes that are gone (killed before
    /// their exit handler ran), and the per-test directories older builds left directly under the parent, are deleted
    /// first. A root is only taken for gone when no process with its id started at its time runs: two suites may run
    /// at once (a CI clone beside a developer's run).
    /// </summary>
    private static string CreateRunRoot()
    {
        string parent = Path.Combine(Path.GetTempPath(), "vectorstore-tests");
        Directory.CreateDirectory(parent);
        foreach (var dir in Directory.EnumerateDirectories(parent))
        {
            string name = Path.GetFileName(dir);
            var parts = name.Split('-');
            bool gone = parts is ["run", var pid, var ticks] && int.TryParse(pid, out int id) && long.TryParse(ticks, out long started)
                ? !Running(id, started)
                : !name.StartsWith("run-", StringComparison.Ordinal) && Directory.GetLastWriteTimeUtc(dir) < DateTime.UtcNow.AddHours(-6);
            if (gone) TryDelete(dir);
        }
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        string root = Path.Combine(parent, $"run-{Environment.ProcessId}-{self.StartTime.ToUniversalTime().Ticks}");
        Directory.CreateDirectory(root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(root);
        return root;
    }

    private static bool Running(int pid, long startedTicks)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            // The start time is recomputed from the boot time on each read: equal within a second is the same process.
            return Math.Abs(p.StartTime.ToUniversalTime().Ticks - startedTicks) < TimeSpan.TicksPerSecond;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file still held, or a mount point a test left: the next sweep tries again.
        }
    }
}
