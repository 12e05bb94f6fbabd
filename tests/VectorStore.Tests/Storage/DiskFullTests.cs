using System.Diagnostics;
using VectorStore.Collections;
using VectorStore.IO;
using VectorStore.Storage;
using Xunit;

namespace VectorStore.Tests.Storage;

/// <summary>
/// A real full disk: a small tmpfs mounted for the test (needs root; skipped with the reason otherwise). The writer
/// fills it, gets <see cref="StorageFullException"/> naming the log file, the failed batches are not visible, space
/// is freed, writes continue in the same process, and after close and reopen exactly the acknowledged writes are there.
/// </summary>
public sealed class DiskFullTests
{
    private const int Dim = 64;

    private static StorageSettings Settings { get; } = new()
    {
        Wal = new WalSettings { PageSizeBits = 16, MemorySizeBits = 18, SegmentSizeBits = 20 },
        SnapshotAfterLogBytes = long.MaxValue,
    };

    /// <summary>A tmpfs mounted on a fresh directory, unmounted on dispose.</summary>
    private sealed class Tmpfs : IDisposable
    {
        public string Dir { get; }

        private Tmpfs(string dir) => Dir = dir;

        public static Tmpfs? TryMount(string size, out string why)
        {
            why = "";
            if (!OperatingSystem.IsLinux()) { why = "needs Linux tmpfs"; return null; }
            var dir = TestData.TempDir();
            var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", dir);
            if (code == 0) return new Tmpfs(dir);
            why = $"cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): mount exited {code}: {output.Trim()}";
            return null;
        }

        public void Dispose() => Run("umount", "-l", Dir);
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        try
        {
            var (code, stdout, stderr) = ChildProcess.Run(new ProcessStartInfo(file, args), TimeSpan.FromMinutes(1));
            return (code, stdout + stderr);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }

    /// <summary>Fills the file system of <paramref name="dir"/> with a file until at most <paramref name="leave"/> bytes are free.</summary>
    private static string Fill(string dir, long leave)
    {
        string path = Path.Combine(dir, $"filler-{Guid.NewGuid():N}");
        var block = new byte[64 * 1024];
        Random.Shared.NextBytes(block);
        using var f = new FileStream(path, FileMode.Create, FileAccess.Write);
        try
        {
            while (FileSpace.AvailableBytes(dir) > leave)
            {
                f.Write(block, 0, (int)Math.Min(block.Length, FileSpace.AvailableBytes(dir) - leave + 4096));
                f.Flush(flushToDisk: true);
            }
        }
        catch (IOException) { }
        return path;
    }

    private static float[] Vector(ulong id, int version)
    {
        var rng = new Random((int)id * 7919 + version);
        var v = new float[Dim];
        for (int i = 0; i < Dim; i++) v[i] = (float)(rng.NextDouble() * 2 - 1);
        return v;
    }

    /// <summary>Writes batches of new ids plus rewrites of earlier ones until <paramref name="stop"/>; returns failures seen.</summary>
    private static async Task<int> WriteUntil(Collection c, Dictionary<ulong, (float[] Vector, int Version)> acked, HashSet<ulong> neverAcked,
        ulong[] nextId, Func<int, bool> stop, List<StorageFullException> errors)
    {
        int failures = 0;
        for (int round = 0; !stop(failures); round++)
        {
            var ids = new List<ulong>();
            var rows = new List<float[]>();
            var versions = new List<int>();
            for (int i = 0; i < 40; i++)
            {
                ids.Add(nextId[0]++);
                versions.Add(0);
            }
            // Rewrites of acknowledged ids: a failed rewrite must leave the previous vector.
            foreach (var old in acked.Keys.Where(k => k % 7 == (ulong)round % 7).Take(10).ToArray())
            {
                ids.Add(old);
                versions.Add(acked[old].Version + 1);
            }
            for (int i = 0; i < ids.Count; i++) rows.Add(Vector(ids[i], versions[i]));
            var m = new VectorMatrix(rows.SelectMany(r => r).ToArray(), Dim);
            var payloads = ids.Select(StorageTestKit.Payload).ToArray();
            try
            {
                if (round % 2 == 0) c.UpsertBatch(ids, m, payloads);
                else await c.UpsertBatchAsync(ids, m, payloads);
                for (int i = 0; i < ids.Count; i++)
                {
                    acked[ids[i]] = (rows[i], versions[i]);
                    neverAcked.Remove(ids[i]);
                }
            }
            catch (StorageFullException e)
            {
                failures++;
                errors.Add(e);
                foreach (var id in ids.Take(40)) neverAcked.Add(id);
                AssertExactly(c, acked, neverAcked);
            }
        }
        return failures;
    }

    /// <summary>The collection holds exactly the acknowledged writes, and none of the ids that were never acknowledged.</summary>
    private static void AssertExactly(Collection c, Dictionary<ulong, (float[] Vector, int Version)> acked, HashSet<ulong> neverAcked)
    {
        Assert.Equal(acked.Count, c.Count);
        foreach (var (id, (vector, _)) in acked)
        {
            var r = c.Get(id);
            Assert.True(r is not null, $"acknowledged id {id} missing");
            Assert.True(vector.SequenceEqual(r!.Vector), $"id {id}: not the acknowledged vector");
            Assert.Equal(StorageTestKit.Payload(id), r.Payload);
        }
        foreach (var id in neverAcked) Assert.Null(c.Get(id));
        // Searches do not return a failed row either: its own vector finds another id (or its id is absent).
        foreach (var id in neverAcked.Take(5))
        {
            var hits = c.Search(Vector(id, 0), new SearchOptions { K = 3 });
            Assert.DoesNotContain(hits, h => h.Id == id);
        }
    }

    [SkippableFact]
    public async Task FullDiskFailsTheBatchWithATypedErrorAndTheWriterContinuesOnceSpaceIsFreed()
    {
        using var fs = Tmpfs.TryMount("8m", out string why);
        Skip.If(fs is null, why);
        string dir = Path.Combine(fs!.Dir, "db");
        var acked = new Dictionary<ulong, (float[] Vector, int Version)>();
        var neverAcked = new HashSet<ulong>();
        var errors = new List<StorageFullException>();
        ulong[] next = [1];
        var options = new DatabaseOptions { MinFreeDiskBytes = 0 }; // the guard off: the writes meet ENOSPC itself
        using (var db = VectorDatabase.Open(dir, options, Settings))
        {
            var c = db.CreateCollection("c", new CollectionOptions { Dimension = Dim, Metric = Metric.L2, Compression = "sq8", TrainingThreshold = 400 });
            await WriteUntil(c, acked, neverAcked, next, f => acked.Count >= 600, errors);
            string filler = Fill(fs.Dir, 256 * 1024);
            int failures = await WriteUntil(c, acked, neverAcked, next, f => f >= 4, errors);
            Assert.Equal(4, failures);
            Assert.All(errors, e =>
            {
                Assert.Contains("ENOSPC", e.Message);
                Assert.Contains("wal.log.", e.Path);
            });
            AssertExactly(c, acked, neverAcked);
            int before = acked.Count;

            File.Delete(filler);
            await WriteUntil(c, acked, neverAcked, next, f => acked.Count >= before + 800 || f > 0, errors);
            Assert.Equal(4, errors.Count);
            AssertExactly(c, acked, neverAcked);
        }
        using (var db = VectorDatabase.Open(dir, options, Settings))
        {
            AssertExactly(db.GetCollection("c"), acked, neverAcked);
        }
    }

    [SkippableFact]
    public void CliLoadReportsTheFullDiskNotACloseFailureAndKeepsExactlyTheAckedBatches()
    {
        using var fs = Tmpfs.TryMount("6m", out string why);
        Skip.If(fs is null, why);
        string db = Path.Combine(fs!.Dir, "db"), vecs = Path.Combine(TestData.TempDir(), "v.fvecs");
        var data = StorageTestKit.Vectors(30_000, Dim, 5); // 7.7 MB of vectors: more than the disk holds
        VectorFiles.WriteFvecs(vecs, data);
        static (int Code, string Out, string Err) Cli(params string[] args)
        {
            var psi = CrashRecoveryTests.CliStart(args);
            psi.Environment["VECTORSTORE_MIN_FREE_BYTES"] = "0"; // meet ENOSPC itself
            return ChildProcess.Run(psi);
        }
        Assert.Equal(0, Cli("create", "--db", db, "--collection", "c", "--dim", $"{Dim}", "--metric", "l2").Code);
        var load = Cli("load", "--db", db, "--collection", "c", "--vectors", vecs, "--batch", "500");
        Assert.Equal(2, load.Code);
        string error = load.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        Assert.StartsWith("error: ", error);
        Assert.DoesNotContain("warning:", load.Err);
        // Closing on the full disk may fail too: that is appended to the one error line, never in place of the cause.
        string cause = error.Split("; closing the database also failed: ")[0];
        Assert.Contains("wal.log.", cause);
        Assert.Contains("ENOSPC", cause);
        Assert.DoesNotContain("closing failed", cause);
        var acked = load.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).Select(p => (long.Parse(p[1]), long.Parse(p[2]))).ToArray();
        Assert.NotEmpty(acked);
        long ackedRows = acked.Sum(a => a.Item2 - a.Item1 + 1);
        Assert.True(ackedRows < data.Count);

        // What is on the (still full) disk holds exactly the acknowledged batches: one writer, so ids 0..ackedRows-1.
        using var reopened = VectorDatabase.OpenReadOnly(db);
        var c = reopened.GetCollection("c");
        Assert.Equal(ackedRows, c.Count);
        StorageTestKit.AssertVectors(c, data, 0, (int)ackedRows);
        Assert.Null(c.Get((ulong)ackedRows));
    }

    /// <summary>
    /// A checkpoint whose segment or snapshot no longer fits (the reserve off) fails without leaving its half-written
    /// temporary file: that file held the space every later attempt (the close's snapshot, an idle checkpoint) needed,
    /// until the next open removed it. Once space is back the checkpoint completes and the rows reopen.
    /// </summary>
    [SkippableFact]
    public void ACheckpointThatMeetsAFullDiskLeavesNoHalfWrittenFileBehind()
    {
        using var fs = Tmpfs.TryMount("8m", out string why);
        Skip.If(fs is null, why);
        string dir = Path.Combine(fs!.Dir, "db");
        var options = new DatabaseOptions { MinFreeDiskBytes = 0 };
        var m = StorageTestKit.Vectors(3000, Dim, 4); // 768 KB of vectors to seal
        using (var db = VectorDatabase.Open(dir, options, Settings))
        {
            var c = db.CreateCollection("c", new CollectionOptions { Dimension = Dim, Metric = Metric.L2, Compression = "sq8", TrainingThreshold = 100_000 });
            StorageTestKit.Load(c, m, 1, 500);
            string filler = Fill(fs.Dir, 128 * 1024);
            var e = Assert.ThrowsAny<Exception>(() => db.Snapshot());
            Assert.True(e is IOException or VectorStoreException, $"untyped failure: {e}");
            Assert.Empty(Directory.GetFiles(dir, "*.tmp", SearchOption.AllDirectories));
            File.Delete(filler);
            db.Snapshot();
        }
        using (var db = VectorDatabase.Open(dir, options, Settings))
        {
            var c = db.GetCollection("c");
            Assert.Equal(3000, c.Count);
            StorageTestKit.AssertHas(c, m, 1, 3000);
        }
    }

    [SkippableFact]
    public void BelowTheReserveWritesAreRefusedBeforeAnythingChangesAndASnapshotStillCompletes()
    {
        using var fs = Tmpfs.TryMount("16m", out string why);
        Skip.If(fs is null, why);
        string dir = Path.Combine(fs!.Dir, "db");
        var options = new DatabaseOptions { MinFreeDiskBytes = 4L << 20 };
        var m = StorageTestKit.Vectors(300, Dim, 1);
        using (var db = VectorDatabase.Open(dir, options, Settings))
        {
            var c = db.CreateCollection("c", new CollectionOptions { Dimension = Dim, Metric = Metric.L2, Compression = "sq8", TrainingThreshold = 1000 });
            StorageTestKit.Load(c, m.Slice(0, 200), 1, 50);
            string filler = Fill(fs.Dir, 3L << 20);
            var e = Assert.Throws<StorageFullException>(() => StorageTestKit.Load(c, m.Slice(200, 50), 201, 50));
            Assert.Contains("reserve", e.Message);
            Assert.Contains("MinFreeDiskBytes", e.Message);
            Assert.Equal(200, c.Count);
            Assert.Null(c.Get(201));
            Assert.Throws<StorageFullException>(() => c.Delete(1));
            Assert.True(c.Contains(1));
            db.Snapshot(); // the reserve is there for this
            File.Delete(filler);
            StorageTestKit.Load(c, m.Slice(200, 100), 201, 50);
        }
        using (var db = VectorDatabase.Open(dir, options, Settings))
        {
            var c = db.GetCollection("c");
            Assert.Equal(300, c.Count);
            StorageTestKit.AssertHas(c, m, 1, 300);
        }
    }
}
