using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using VectorStore.Client;
using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.IO;
using VectorStore.Tests.Storage;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// <c>vectorstore serve</c> over a real database directory, driven by the CLI's <c>--server</c> variants and the
/// client: same outputs as <c>--db</c>, Snapshot/Flush opcodes reach the storage engine, acknowledged writes and
/// snapshots survive a restart (after kill -9 and after SIGTERM).
/// </summary>
public sealed class ServeStorageTests
{
    private const string Token = "integ-token";

    private static (int Code, string Out, string Err) Cli(params string[] args)
    =>
        ChildProcess.Run(CrashRecoveryTests.CliStart(args));

    private static string[] Lines(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static string[] SnapshotFiles(string db, string collection) =>
        Directory.GetFiles(Path.Combine(db, "collections", collection), "snap-*.vss").Select(Path.GetFileName).ToArray()!;

    [SkippableFact]
    public async Task EveryDatabaseCommandPrintsTheSameThroughServerAsThroughDb()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "needs POSIX signals");
        var dir = TestData.TempDir();
        string local = Path.Combine(dir, "local"), served = Path.Combine(dir, "served"), tokenFile = Path.Combine(dir, "token");
        File.WriteAllText(tokenFile, Token + "\n");
        string vecs = Path.Combine(dir, "v.fvecs"), queries = Path.Combine(dir, "q.fvecs");
        var data = SyntheticData.Clustered(600, 12, seed: 11);
        VectorFiles.WriteFvecs(vecs, data);
        VectorFiles.WriteFvecs(queries, data.Slice(50, 15));

        Assert.Equal(0, Cli("create", "--db", served, "--collection", "warm", "--dim", "4", "--metric", "l2").Code);
        using var serve = await ServeProcess.StartAsync(served, tokenFile);
        string[] db = ["--db", local], server = ["--server", serve.Address, "--token-file", tokenFile];

        // Run one command both ways; same exit code and stdout (timings aside), and a clean stderr.
        (string Local, string Remote) Both(string[] args, bool sameStdout = true)
        {
            var viaDb = Cli([.. args, .. db]);
            var viaServer = Cli([.. args, .. server]);
            Assert.True(viaDb.Code == 0, $"{string.Join(' ', args)} --db: {viaDb.Err}");
            Assert.True(viaServer.Code == 0, $"{string.Join(' ', args)} --server: {viaServer.Err}{serve.Stderr}");
            Assert.DoesNotContain("error", viaServer.Err);
            if (sameStdout) Assert.Equal(viaDb.Out, viaServer.Out);
            return (viaDb.Out, viaServer.Out);
        }

        // create on the local side needs the directory made first; --db creates it, like the served one was.
        Assert.Equal(0, Cli("create", "--db", local, "--collection", "warm", "--dim", "4", "--metric", "l2").Code);
        Both(["create", "--collection", "c", "--dim", "12", "--metric", "l2", "--compression", "sq8", "--training-threshold", "200"]);
        var load = Both(["load", "--collection", "c", "--vectors", vecs, "--first-id", "100", "--batch", "250"]);
        Assert.Equal(["acked 100 349", "acked 350 599", "acked 600 699"], Lines(load.Remote));

        // Plain search prints "id:score" per query: ids and scores must match exactly.
        var plain = Both(["search", "--collection", "c", "--queries", queries, "--k", "5", "--rerank", "20"]);
        Assert.Equal(15, Lines(plain.Remote).Length);
        Assert.StartsWith("150:0 ", Lines(plain.Remote)[0]);

        string outLocal = Path.Combine(dir, "rl.ivecs"), outRemote = Path.Combine(dir, "rr.ivecs");
        var a = Cli(["search", "--collection", "c", "--queries", queries, "--k", "5", "--out", outLocal, "--json", .. db]);
        var b = Cli(["search", "--collection", "c", "--queries", queries, "--k", "5", "--out", outRemote, "--json", .. server]);
        Assert.Equal((0, 0), (a.Code, b.Code));
        Assert.Equal(File.ReadAllBytes(outLocal), File.ReadAllBytes(outRemote));
        var ja = JsonNode.Parse(a.Out)!.AsObject();
        var jb = JsonNode.Parse(b.Out)!.AsObject();
        Assert.Equal(ja.Select(kv => kv.Key), jb.Select(kv => kv.Key));
        Assert.Equal(15, (int)jb["queries"]!);
        Assert.Equal(5, (int)jb["k"]!);

        string el = Path.Combine(dir, "el.fvecs"), er = Path.Combine(dir, "er.fvecs");
        Assert.Equal(0, Cli(["export", "--collection", "c", "--out", el, "--ids-out", el + ".ids", .. db]).Code);
        var export = Cli(["export", "--collection", "c", "--out", er, "--ids-out", er + ".ids", .. server]);
        Assert.Equal(0, export.Code);
        Assert.Equal("exported 600 vectors", export.Err.Trim());
        Assert.Equal(File.ReadAllBytes(vecs), File.ReadAllBytes(er));
        Assert.Equal(File.ReadAllBytes(el), File.ReadAllBytes(er));
        Assert.Equal(File.ReadAllText(el + ".ids"), File.ReadAllText(er + ".ids"));

        // info: every key and value the same except bytes_on_disk (the two directories' logs differ in history) and
        // resident_bytes (the serving process still buffers what it loaded; the --db process opened a checkpoint),
        // which over --server must be positive numbers, not null.
        var info = Both(["info", "--json"], sameStdout: false);
        var il = JsonNode.Parse(info.Local)!["collections"]!.AsArray();
        var ir = JsonNode.Parse(info.Remote)!["collections"]!.AsArray();
        Assert.Equal(il.Count, ir.Count);
        Assert.Equal(2, ir.Count);
        for (int i = 0; i < il.Count; i++)
        {
            var l = il[i]!.AsObject();
            var r = ir[i]!.AsObject();
            Assert.Equal(l.Select(kv => kv.Key), r.Select(kv => kv.Key));
            foreach (var (key, value) in l)
                if (key is not ("bytes_on_disk" or "resident_bytes")) Assert.Equal(value?.ToJsonString(), r[key]?.ToJsonString());
            Assert.True((long)r["resident_bytes"]! > 0, info.Remote);
            Assert.Equal(JsonValueKind.Number, r["bytes_on_disk"]!.GetValueKind());
            Assert.True((long)r["bytes_on_disk"]! > 0, info.Remote);
        }
        var c = ir.Single(x => (string)x!["name"]! == "c")!;
        Assert.Equal(600, (int)c["count"]!);
        Assert.Equal("l2", (string)c["metric"]!);
        Assert.Equal("sq8", (string)c["compression"]!);
        var text = Both(["info", "--collection", "c"], sameStdout: false);
        static string WithoutBytes(string s) => System.Text.RegularExpressions.Regex.Replace(s, @"(bytes_on_disk|resident_bytes)=\d+", "$1=N");
        Assert.Equal(WithoutBytes(text.Local), WithoutBytes(text.Remote));
        Assert.Matches(@"bytes_on_disk=[1-9]\d*", text.Remote);

        Assert.Equal(0, await serve.TerminateAsync());
    }

    [Fact]
    public void DatabaseCommandsNeedExactlyOneOfDbAndServer()
    {
        var neither = Cli("info", "--json");
        Assert.Equal(1, neither.Code);
        Assert.StartsWith("error: one of --db DIR or --server HOST:PORT is required", neither.Err);
        var both = Cli("search", "--db", TestData.TempDir(), "--server", "127.0.0.1:1", "--collection", "c", "--queries", "q.fvecs");
        Assert.Equal(1, both.Code);
        Assert.StartsWith("error: give either --db or --server, not both", both.Err);
        Assert.Single(Lines(both.Err));
        // Nothing listens on port 1: a connection failure is an IO error (exit 2) with one error line.
        var down = Cli("info", "--server", "127.0.0.1:1", "--json");
        Assert.Equal(2, down.Code);
        Assert.StartsWith("error: cannot connect to 127.0.0.1:1", down.Err);
        Assert.Empty(down.Out);
    }

    [SkippableFact]
    public async Task SnapshotOpcodeWritesASnapshotAndAckedDataSurviveKillAndRestart()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "needs POSIX signals");
        var dir = TestData.TempDir();
        string db = Path.Combine(dir, "db"), tokenFile = Path.Combine(dir, "token"), more = Path.Combine(dir, "more.fvecs");
        File.WriteAllText(tokenFile, Token);
        var data = SyntheticData.Clustered(900, 8, seed: 5);
        VectorFiles.WriteFvecs(more, data.Slice(400, 300));
        var so = new SearchOptions { K = 5, Rerank = 20 };
        SearchHit[] before;

        using (var serve = await ServeProcess.StartAsync(db, tokenFile))
        {
            await using (var client = await serve.ConnectAsync())
            {
                await client.CreateCollectionAsync("c", new CollectionOptions { Dimension = 8, Metric = Metric.L2, Compression = "sq8", TrainingThreshold = 200 });
                await client.UpsertBatchAsync("c", Enumerable.Range(0, 400).Select(i => (ulong)i).ToArray(), data.Slice(0, 400));
                await client.FlushAsync();
                Assert.Empty(SnapshotFiles(db, "c"));
                long logOnly = (await client.GetInfoAsync("c")).BytesOnDisk!.Value;
                Assert.True(logOnly > 0);

                await client.SnapshotAsync();
                var snap = Assert.Single(SnapshotFiles(db, "c"));
                Assert.Contains(snap, File.ReadAllText(Path.Combine(db, "MANIFEST")));
                Assert.True((await client.GetInfoAsync("c")).BytesOnDisk > 0);
            }

            // More rows through the CLI: every printed ack must survive kill -9 of the server (log replay on top of the snapshot).
            var load = Cli("load", "--server", serve.Address, "--token-file", tokenFile, "--collection", "c", "--vectors", more, "--first-id", "400", "--batch", "100");
            Assert.True(load.Code == 0, load.Err);
            Assert.Equal(["acked 400 499", "acked 500 599", "acked 600 699"], Lines(load.Out));
            await using (var client = await serve.ConnectAsync())
                before = await client.SearchAsync("c", data.Row(3).ToArray(), so);
            serve.Crash();
        }

        string snapAfterCrash;
        using (var serve = await ServeProcess.StartAsync(db, tokenFile))
        {
            await using (var client = await serve.ConnectAsync())
            {
                Assert.Equal(700, await client.CountAsync("c"));
                Assert.Equal(before, await client.SearchAsync("c", data.Row(3).ToArray(), so));
                var recs = await client.GetBatchAsync("c", [0, 399, 400, 699]);
                Assert.Equal(data.Row(0).ToArray(), recs[0]!.Vector);
                Assert.Equal(data.Row(399).ToArray(), recs[1]!.Vector);
                Assert.Equal(data.Row(400).ToArray(), recs[2]!.Vector);
                Assert.Equal(data.Row(699).ToArray(), recs[3]!.Vector);
                snapAfterCrash = Assert.Single(SnapshotFiles(db, "c"));

                // Rows after the last snapshot; a clean SIGTERM shutdown must snapshot them.
                await client.UpsertBatchAsync("c", Enumerable.Range(700, 200).Select(i => (ulong)i).ToArray(), data.Slice(700, 200));
            }
            Assert.Equal(0, await serve.TerminateAsync());
            Assert.Contains("shutting down", serve.Stderr);
        }
        var snapAfterStop = Assert.Single(SnapshotFiles(db, "c"));
        Assert.NotEqual(snapAfterCrash, snapAfterStop);

        using var reopened = VectorDatabase.Open(db);
        var c = reopened.GetCollection("c");
        Assert.Equal(900, c.Count);
        Assert.False(reopened.StoreOf("c")!.Dirty);
        for (int i = 0; i < 900; i += 97) Assert.Equal(data.Row(i).ToArray(), c.Get((ulong)i)!.Vector);
    }
}
