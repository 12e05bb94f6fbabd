using System.Diagnostics;
using System.Text.Json;
using VectorStore.IO;
using Xunit;

namespace VectorStore.Tests.Storage;

/// <summary>The persistent-database CLI commands against the contract: output, JSON keys, exit codes.</summary>
public sealed class StorageCliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    =>
        ChildProcess.Run(CrashRecoveryTests.CliStart(args));

    /// <summary>A database in a fresh directory with collection "c": 20 vectors of 8 dimensions (l2, none), loaded from ids <paramref name="firstId"/> on.</summary>
    private static (string Dir, string Db, string Vectors) LoadedTwenty(string firstId = "0")
    {
        var dir = TestData.TempDir();
        string db = Path.Combine(dir, "db"), vecs = Path.Combine(dir, "v.fvecs");
        VectorFiles.WriteFvecs(vecs, StorageTestKit.Vectors(20, 8, 5));
        Assert.Equal(0, Run("create", "--db", db, "--collection", "c", "--dim", "8", "--metric", "l2", "--compression", "none").Code);
        Assert.Equal(0, Run("load", "--db", db, "--collection", "c", "--vectors", vecs, "--first-id", firstId).Code);
        return (dir, db, vecs);
    }

    [Fact]
    public void CreateLoadInfoSearchExportCompactFollowTheContract()
    {
        var dir = TestData.TempDir();
        string db = Path.Combine(dir, "db"), vecs = Path.Combine(dir, "v.fvecs");
        var data = StorageTestKit.Vectors(500, 8, 21);
        VectorFiles.WriteFvecs(vecs, data);

        Assert.Equal(0, Run("create", "--db", db, "--collection", "c", "--dim", "8", "--metric", "l2", "--training-threshold", "100").Code);
        var load = Run("load", "--db", db, "--collection", "c", "--vectors", vecs, "--first-id", "10", "--batch", "200");
        Assert.Equal(0, load.Code);
        Assert.Equal(["acked 10 209", "acked 210 409", "acked 410 509"], load.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var info = Run("info", "--db", db, "--json");
        Assert.Equal(0, info.Code);
        var c = JsonDocument.Parse(info.Out).RootElement.GetProperty("collections")[0];
        Assert.Equal("c", c.GetProperty("name").GetString());
        Assert.Equal(500, c.GetProperty("count").GetInt32());
        Assert.Equal(8, c.GetProperty("dim").GetInt32());
        Assert.Equal("l2", c.GetProperty("metric").GetString());
        Assert.Equal("sq8", c.GetProperty("compression").GetString());
        Assert.Equal("flat", c.GetProperty("index").GetString());
        Assert.True(c.GetProperty("bytes_on_disk").GetInt64() > 500 * 8 * 4);

        string exported = Path.Combine(dir, "e.fvecs"), ids = Path.Combine(dir, "ids.txt");
        Assert.Equal(0, Run("export", "--db", db, "--collection", "c", "--out", exported, "--ids-out", ids).Code);
        Assert.Equal(File.ReadAllBytes(vecs), File.ReadAllBytes(exported));
        Assert.Equal(Enumerable.Range(10, 500).Select(i => i.ToString()), File.ReadAllLines(ids));

        string results = Path.Combine(dir, "r.ivecs");
        var search = Run("search", "--db", db, "--collection", "c", "--queries", vecs, "--k", "3", "--out", results, "--json");
        Assert.Equal(0, search.Code);
        var summary = JsonDocument.Parse(search.Out).RootElement;
        Assert.Equal(500, summary.GetProperty("queries").GetInt32());
        Assert.True(summary.GetProperty("qps").GetDouble() > 0);
        _ = summary.GetProperty("p50_us");
        _ = summary.GetProperty("p99_us");
        var rows = VectorFiles.ReadIvecs(results);
        Assert.Equal(500, rows.Length);
        // Each base vector's nearest neighbour is itself.
        Assert.True(rows.Select((r, i) => r[0] == i + 10).Count(x => x) >= 490);

        var compact = Run("compact", "--db", db, "--collection", "c", "--json");
        Assert.Equal(0, compact.Code);
        Assert.True(JsonDocument.Parse(compact.Out).RootElement.GetProperty("bytes_after").GetInt64() > 0);
    }

    /// <summary>
    /// A search whose --out fails midway leaves nothing behind: not the empty or partial file it used to, and no
    /// temporary file either; a file already at the destination is kept as it was.
    /// </summary>
    [Fact]
    public void FailedSearchOutputLeavesNoPartialFile()
    {
        // Ids past int32: the .ivecs writer fails at the first hit it cannot store.
        var (dir, db, vecs) = LoadedTwenty(firstId: "2147483640");
        string outDir = Path.Combine(dir, "out");
        Directory.CreateDirectory(outDir);

        string results = Path.Combine(outDir, "r.ivecs");
        var search = Run("search", "--db", db, "--collection", "c", "--queries", vecs, "--k", "3", "--out", results);
        Assert.Equal(1, search.Code);
        Assert.Contains("does not fit the int32 .ivecs format", search.Err);
        Assert.False(File.Exists(results));

        File.WriteAllBytes(results, [1, 2, 3]);
        Assert.Equal(1, Run("search", "--db", db, "--collection", "c", "--queries", vecs, "--k", "3", "--out", results).Code);
        Assert.Equal([1, 2, 3], File.ReadAllBytes(results));
        Assert.Equal(["r.ivecs"], Directory.GetFiles(outDir).Select(Path.GetFileName));
    }

    /// <summary>A device and a symbolic link are written to, not renamed over: /dev/null takes the output, a link still points where it did and its target holds the results.</summary>
    [Fact]
    public void SearchOutputToADeviceOrThroughASymbolicLinkWritesThere()
    {
        var (dir, db, vecs) = LoadedTwenty();
        Assert.Equal(0, Run("search", "--db", db, "--collection", "c", "--queries", vecs, "--k", "3", "--out", "/dev/null").Code);

        string target = Path.Combine(dir, "target.ivecs"), link = Path.Combine(dir, "link.ivecs");
        File.CreateSymbolicLink(link, target);
        Assert.Equal(0, Run("search", "--db", db, "--collection", "c", "--queries", vecs, "--k", "3", "--out", link).Code);
        Assert.Equal(target, new FileInfo(link).LinkTarget);
        Assert.Equal(20 * (1 + 3) * sizeof(int), new FileInfo(target).Length);
    }

    /// <summary>An export that fails after opening some of its outputs leaves none of them (and no temporary file).</summary>
    [Fact]
    public void FailedExportLeavesNoPartialFile()
    {
        var (dir, db, _) = LoadedTwenty();
        string outDir = Path.Combine(dir, "out");
        Directory.CreateDirectory(outDir);

        // export opens its vectors output before its ids output: an ids path that cannot be written must not leave
        // an empty vectors file.
        string exported = Path.Combine(outDir, "e.fvecs");
        var export = Run("export", "--db", db, "--collection", "c", "--out", exported, "--ids-out", Path.Combine(dir, "missing", "ids.txt"));
        Assert.Equal(2, export.Code);
        Assert.Contains(Path.Combine(dir, "missing", "ids.txt"), export.Err);
        Assert.False(File.Exists(exported));
        Assert.Empty(Directory.GetFiles(outDir));
    }

    /// <summary>
    /// Two outputs naming one file (as given, through another spelling, or through a symbolic link) are refused before
    /// anything is written: the ids used to replace the vectors, and /dev/null twice could not be opened. One output on
    /// /dev/null alone works.
    /// </summary>
    [Fact]
    public void ExportRefusesTwoOutputsNamingTheSameFile()
    {
        var (dir, db, _) = LoadedTwenty();
        string same = Path.Combine(dir, "same.bin"), link = Path.Combine(dir, "link.txt");
        File.WriteAllText(same, "kept");
        File.CreateSymbolicLink(link, same);
        foreach (var (vectors, ids, flags) in new[]
        {
            (same, same, "--out and --ids-out"),
            (same, Path.Combine(dir, ".", "same.bin"), "--out and --ids-out"),
            (same, link, "--out and --ids-out"),
            ("/dev/null", "/dev/null", "--out and --ids-out"),
        })
        {
            var r = Run("export", "--db", db, "--collection", "c", "--out", vectors, "--ids-out", ids);
            Assert.True(r.Code == 1, $"{vectors} {ids}: exit code {r.Code}, stderr: {r.Err}");
            var line = Assert.Single(r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("error: ", line);
            Assert.Contains($"{flags} name the same file", line);
            Assert.Equal("kept", File.ReadAllText(same));
        }
        var fields = Run("export", "--db", db, "--collection", "c", "--out", Path.Combine(dir, "v.out"), "--ids-out", same, "--fields-out", same);
        Assert.Equal(1, fields.Code);
        Assert.Contains("--ids-out and --fields-out name the same file", fields.Err);

        string idsOut = Path.Combine(dir, "ids.txt");
        var toNull = Run("export", "--db", db, "--collection", "c", "--out", "/dev/null", "--ids-out", idsOut);
        Assert.True(toNull.Code == 0, toNull.Err);
        Assert.Equal(20, File.ReadAllLines(idsOut).Length);
    }

    [Fact]
    public void ErrorsUseTheContractExitCodes()
    {
        var dir = TestData.TempDir();
        var missing = Run("info", "--db", Path.Combine(dir, "nothing"), "--json");
        Assert.Equal(2, missing.Code);
        Assert.StartsWith("error: ", missing.Err);
        var bad = Run("create", "--db", Path.Combine(dir, "db"), "--collection", "c", "--dim", "8", "--compression", "nope");
        Assert.Equal(1, bad.Code);
        Assert.StartsWith("error: ", bad.Err);
        Assert.Single(bad.Err.Trim().Split('\n'));
    }
}
