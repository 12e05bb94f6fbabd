using VectorStore.Collections;
using VectorStore.Storage;
using Xunit;

namespace VectorStore.Tests.Storage;

/// <summary>Helpers shared by the storage tests: small FASTER sizes, deterministic data, crash simulation.</summary>
internal static class StorageTestKit
{
    /// <summary>Small pages and segments so tests exercise segment boundaries and truncation cheaply.</summary>
    public static StorageSettings Small { get; } = new()
    {
        Wal = new WalSettings { PageSizeBits = 16, MemorySizeBits = 18, SegmentSizeBits = 18 },
        SnapshotAfterLogBytes = long.MaxValue,
    };

    /// <summary>
    /// Opens with <paramref name="settings"/> (default <see cref="Small"/>) and no idle checkpoints: storage tests decide
    /// when checkpoints happen (IdleCheckpointTests turns them on).
    /// </summary>
    public static VectorDatabase Open(string dir, StorageSettings? settings = null) =>
        VectorDatabase.Open(dir, new DatabaseOptions { CheckpointWhenIdle = TimeSpan.Zero }, settings ?? Small);

    /// <summary>
    /// Files under <paramref name="dir"/> this process still holds open (<c>/proc/self/fd</c>) or mapped
    /// (<c>/proc/self/maps</c>); empty where those do not exist. After a refused open there must be none: a caller that
    /// retries would otherwise collect handles, memory and (on Windows) sharing violations.
    /// </summary>
    public static List<string> HeldUnder(string dir)
    {
        var held = new List<string>();
        string prefix = Path.GetFullPath(dir).TrimEnd('/') + "/";
        if (Directory.Exists("/proc/self/fd"))
            // Entries, not files: a descriptor of an open directory is a link to a directory.
            foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
            {
                string? target = null;
                try { target = new FileInfo(fd).LinkTarget; }
                catch (IOException) { } // closed meanwhile by another test's thread
                if (target is not null && (target == prefix[..^1] || target.StartsWith(prefix, StringComparison.Ordinal))) held.Add($"fd {Path.GetFileName(fd)}: {target}");
            }
        if (File.Exists("/proc/self/maps"))
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                int at = line.IndexOf(prefix, StringComparison.Ordinal);
                if (at >= 0) held.Add($"mapped: {line[at..]}");
            }
        return held;
    }

    /// <summary>Releases every handle without the clean-close snapshot: what a killed process leaves behind.</summary>
    public static void Crash(VectorDatabase db) => db.SimulateCrash();

    public static CollectionOptions Options(int dim = 16, int threshold = 300, string compression = "sq8", Metric metric = Metric.L2) =>
        new() { Dimension = dim, Metric = metric, Compression = compression, TrainingThreshold = threshold };

    /// <summary>Deterministic vectors: row i of seed s is always the same.</summary>
    public static VectorMatrix Vectors(int count, int dim, int seed)
    {
        var rng = new Random(seed);
        var m = new VectorMatrix(count, dim);
        for (int i = 0; i < m.Data.Length; i++) m.Data[i] = (float)(rng.NextDouble() * 2 - 1);
        return m;
    }

    /// <summary>A fresh temporary copy of the directory tree <paramref name="source"/>.</summary>
    public static string CopyDirectory(string source)
    {
        var dir = TestData.TempDir();
        foreach (var f in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(dir, Path.GetRelativePath(source, f));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(f, target);
        }
        return dir;
    }

    public static byte[] Payload(ulong id) => System.Text.Encoding.UTF8.GetBytes($"payload-{id}");

    /// <summary>Upserts rows as ids first..first+count-1 in batches, with payloads.</summary>
    public static void Load(Collection c, VectorMatrix m, ulong first, int batch)
    {
        for (int start = 0; start < m.Count; start += batch)
        {
            int n = Math.Min(batch, m.Count - start);
            var ids = Enumerable.Range(0, n).Select(i => first + (ulong)(start + i)).ToArray();
            c.UpsertBatch(ids, m.Slice(start, n), ids.Select(Payload).ToArray());
        }
    }

    /// <summary>Asserts that ids first.. have exactly rows of <paramref name="m"/> (payloads not checked).</summary>
    public static void AssertVectors(Collection c, VectorMatrix m, ulong first, int count)
    {
        for (int i = 0; i < count; i++)
        {
            var r = c.Get(first + (ulong)i);
            Assert.True(r is not null, $"id {first + (ulong)i} missing");
            Assert.True(m.Row(i).SequenceEqual(r!.Vector), $"id {first + (ulong)i}: vector differs");
        }
    }

    /// <summary>Asserts that ids first.. have exactly rows of <paramref name="m"/> and their payloads.</summary>
    public static void AssertHas(Collection c, VectorMatrix m, ulong first, int count)
    {
        AssertVectors(c, m, first, count);
        for (int i = 0; i < count; i++) Assert.Equal(Payload(first + (ulong)i), c.Get(first + (ulong)i)!.Payload);
    }
}
