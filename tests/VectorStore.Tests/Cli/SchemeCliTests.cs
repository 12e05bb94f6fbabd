using System.Text.Json;
using VectorStore.Evaluation;
using VectorStore.IO;
using VectorStore.Lifecycle;
using VectorStore.Tests.Protocol;
using Xunit;

namespace VectorStore.Tests.Cli;

/// <summary>
/// The <c>scheme</c> and <c>drift</c> commands end to end, through the real CLI process, against a database directory
/// (<c>--db</c>) and a server (<c>--server</c>): build a candidate, list, canary, promote, rollback, gc, drift, and
/// what <c>info</c> and <c>search</c> report about generations (issue 16's "Interface" section).
/// </summary>
public sealed class SchemeCliTests
{
    private const int Dim = 16, Count = 2000;

    /// <summary>Whether the engine's in-process client manages generations (issue 16's engine side); these tests need it.</summary>
    public static bool EngineHasGenerations { get; } = typeof(ICompressionLifecycleClient).IsAssignableFrom(typeof(InProcessDatabaseClient));

    private static void RequireEngine() =>
        Skip.IfNot(EngineHasGenerations, "needs the engine's generations (issue 16): InProcessDatabaseClient does not implement ICompressionLifecycleClient yet");

    private static (string Dir, string Vectors, string Queries) Files()
    {
        var dir = TestData.TempDir();
        var data = SyntheticData.Clustered(Count, Dim, seed: 11);
        string vectors = Path.Combine(dir, "v.fvecs"), queries = Path.Combine(dir, "q.fvecs");
        VectorFiles.WriteFvecs(vectors, data);
        VectorFiles.WriteFvecs(queries, SyntheticData.Clustered(40, Dim, seed: 12));
        return (dir, vectors, queries);
    }

    private static string Ok(string[] target, params string[] args)
    {
        var r = CliRunner.Run([.. args, .. target]);
        Assert.True(r.Code == 0, $"vectorstore {string.Join(' ', args)} exited {r.Code}: {r.Stderr}");
        return r.Stdout;
    }

    private static JsonElement[] JsonLines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();

    private static JsonElement Info(string[] target) =>
        JsonLines(Ok(target, "info", "--collection", "c", "--json"))[0].GetProperty("collections")[0];

    /// <summary>The whole lifecycle through one target; <paramref name="server"/> adds what needs one process (exposure).</summary>
    private static void Lifecycle(string[] target, string vectors, string queries, bool server)
    {
        Ok(target, "create", "--collection", "c", "--dim", $"{Dim}", "--metric", "l2", "--compression", "sq8", "--index", "flat", "--training-threshold", "500");
        Ok(target, "load", "--collection", "c", "--vectors", vectors);
        var info = Info(target);
        Assert.Equal(1, info.GetProperty("generation").GetInt32());
        Assert.Equal(JsonValueKind.Null, info.GetProperty("training_error").ValueKind);

        var list = JsonLines(Ok(target, "scheme", "list", "--collection", "c", "--json"));
        var first = Assert.Single(list);
        Assert.Equal(1, first.GetProperty("generation").GetInt32());
        Assert.Equal("live", first.GetProperty("state").GetString());
        Assert.Equal("sq8", first.GetProperty("compression").GetString());
        Assert.Equal("flat", first.GetProperty("index").GetString());

        var built = Assert.Single(JsonLines(Ok(target, "scheme", "build", "--collection", "c", "--compression", "pq:4", "--index", "ivf:8", "--json")));
        Assert.Equal(2, built.GetProperty("generation").GetInt32());
        Assert.Equal("candidate", built.GetProperty("state").GetString());
        Assert.True(built.GetProperty("ready").GetBoolean());
        list = JsonLines(Ok(target, "scheme", "list", "--collection", "c", "--json"));
        Assert.Equal([1, 2], list.Select(g => g.GetProperty("generation").GetInt32()));
        Assert.Equal(["live", "candidate"], list.Select(g => g.GetProperty("state").GetString()));

        var canary = Assert.Single(JsonLines(Ok(target, "scheme", "canary", "--collection", "c", "--generation", "2", "--queries", queries, "--k", "10", "--json")));
        Assert.Equal(2, canary.GetProperty("generation").GetInt32());
        Assert.Equal(40, canary.GetProperty("queries").GetInt32());
        Assert.Equal(10, canary.GetProperty("k").GetInt32());
        double recallLive = canary.GetProperty("recall_live").GetDouble(), recallCandidate = canary.GetProperty("recall_candidate").GetDouble();
        // sq8 on a flat index is near exact; 4 sub-quantizers over 16 dimensions lose a lot more.
        Assert.InRange(recallLive, 0.8, 1.0);
        Assert.InRange(recallCandidate, 0.0, 1.0);
        Assert.True(recallLive > recallCandidate, $"live {recallLive} vs candidate {recallCandidate}");
        Assert.InRange(canary.GetProperty("overlap").GetDouble(), 0.0, 1.0);
        Assert.True(canary.GetProperty("candidate_p99_ms").GetDouble() >= 0);

        if (server)
        {
            // A/B exposure: at 100 % every keyed search is served by the candidate, unkeyed ones by the live generation.
            Ok(target, "scheme", "exposure", "--collection", "c", "--generation", "2", "--percent", "100");
            var keyed = JsonLines(Ok(target, "search", "--collection", "c", "--queries", queries, "--k", "5", "--hits-json", "--exposure-key", "user-7"));
            Assert.All(keyed[..^1], q => Assert.All(q.GetProperty("hits").EnumerateArray(), h => Assert.Equal(2, h.GetProperty("generation").GetInt32())));
            var plain = JsonLines(Ok(target, "search", "--collection", "c", "--queries", queries, "--k", "5", "--hits-json"));
            Assert.All(plain[..^1], q => Assert.All(q.GetProperty("hits").EnumerateArray(), h => Assert.Equal(1, h.GetProperty("generation").GetInt32())));
            Ok(target, "scheme", "exposure", "--collection", "c", "--generation", "2", "--percent", "0");
        }

        var promoted = Assert.Single(JsonLines(Ok(target, "scheme", "promote", "--collection", "c", "--generation", "2", "--json")));
        Assert.Equal(2, promoted.GetProperty("generation").GetInt32());
        Assert.Equal(1, promoted.GetProperty("previous").GetInt32());
        info = Info(target);
        Assert.Equal(2, info.GetProperty("generation").GetInt32());
        Assert.StartsWith("pq:4", info.GetProperty("compression").GetString());
        Assert.StartsWith("ivf:8", info.GetProperty("index").GetString());
        var hits = JsonLines(Ok(target, "search", "--collection", "c", "--queries", queries, "--k", "5", "--hits-json"));
        Assert.Equal(2, hits[0].GetProperty("hits")[0].GetProperty("generation").GetInt32());
        Assert.Equal(["retired", "live"], JsonLines(Ok(target, "scheme", "list", "--collection", "c", "--json")).Select(g => g.GetProperty("state").GetString()));

        var rolled = Assert.Single(JsonLines(Ok(target, "scheme", "rollback", "--collection", "c", "--json")));
        Assert.Equal(1, rolled.GetProperty("generation").GetInt32());
        Assert.Equal(2, rolled.GetProperty("previous").GetInt32());
        info = Info(target);
        Assert.Equal(1, info.GetProperty("generation").GetInt32());
        Assert.Equal("sq8", info.GetProperty("compression").GetString());

        // A rollback makes the generation it leaves a ready candidate again; nothing is retired, so gc drops nothing.
        Assert.Equal(["live", "candidate"], JsonLines(Ok(target, "scheme", "list", "--collection", "c", "--json")).Select(g => g.GetProperty("state").GetString()));
        var gc = Assert.Single(JsonLines(Ok(target, "scheme", "gc", "--collection", "c", "--json")));
        Assert.Equal(0, gc.GetProperty("removed").GetInt32());
        if (server)
        {
            // Promoted again without retraining; with no retired generation kept, gc drops generation 1.
            Ok(target, "scheme", "promote", "--collection", "c", "--generation", "2");
            Assert.Equal(["retired", "live"], JsonLines(Ok(target, "scheme", "list", "--collection", "c", "--json")).Select(g => g.GetProperty("state").GetString()));
            var policy = Assert.Single(JsonLines(Ok(target, "scheme", "policy", "--collection", "c", "--retain", "0", "--json")));
            Assert.Equal(0, policy.GetProperty("retain").GetInt32());
            // Read back as set, with the same keys; a setting beside --show is a usage error that changes nothing.
            var shown = Assert.Single(JsonLines(Ok(target, "scheme", "policy", "--collection", "c", "--show", "--json")));
            Assert.Equal(policy.ToString(), shown.ToString());
            var refused = CliRunner.Run(["scheme", "policy", "--collection", "c", "--show", "--retain", "3", .. target]);
            Assert.Equal(1, refused.Code);
            Assert.Contains("--show prints the policy and changes nothing: leave out --retain", refused.Stderr, StringComparison.Ordinal);
            Assert.Equal(0, Assert.Single(JsonLines(Ok(target, "scheme", "policy", "--collection", "c", "--show", "--json"))).GetProperty("retain").GetInt32());
            gc = Assert.Single(JsonLines(Ok(target, "scheme", "gc", "--collection", "c", "--json")));
            Assert.Equal(1, gc.GetProperty("removed").GetInt32());
            Assert.Equal([2], JsonLines(Ok(target, "scheme", "list", "--collection", "c", "--json")).Select(g => g.GetProperty("generation").GetInt32()));
        }

        var drift = Assert.Single(JsonLines(Ok(target, "drift", "--collection", "c", "--json")));
        Assert.Equal(server ? 2 : 1, drift.GetProperty("generation").GetInt32());
        AssertDriftReport(drift);
        // 2,000 vectors are too few for sensors.
        Assert.False(drift.GetProperty("sensors").GetBoolean());
        Assert.Contains("fewer than 8000", drift.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    /// <summary>A drift line's shape: each signal named with a numeric threshold, and <c>drifted</c> exactly when one fired.</summary>
    private static void AssertDriftReport(JsonElement drift)
    {
        Assert.Equal("c", drift.GetProperty("collection").GetString());
        Assert.True(drift.GetProperty("observed").GetInt64() >= 0);
        Assert.Equal(JsonValueKind.Array, drift.GetProperty("actions").ValueKind);
        bool anyFired = false;
        foreach (var s in drift.GetProperty("signals").EnumerateArray())
        {
            Assert.False(string.IsNullOrEmpty(s.GetProperty("name").GetString()));
            Assert.Equal(JsonValueKind.Number, s.GetProperty("threshold").ValueKind);
            Assert.True(s.TryGetProperty("baseline", out _));
            anyFired |= s.GetProperty("fired").GetBoolean();
        }
        Assert.Equal(anyFired, drift.GetProperty("drifted").GetBoolean());
    }

    /// <summary>After training, inserts feed the sensors: <c>drift</c> then lists their readings (through a server: one process).</summary>
    [Fact]
    public async Task DriftListsTheSensorsOnceInsertsFollowTraining()
    {
        var dir = TestData.TempDir();
        string vectors = Path.Combine(dir, "v.fvecs");
        VectorFiles.WriteFvecs(vectors, SyntheticData.Clustered(10_000, Dim, seed: 13));
        await using var live = LiveServer.Start(o => o, VectorDatabase.Open(Path.Combine(dir, "db")));
        var tokenFile = Path.Combine(dir, "token");
        File.WriteAllText(tokenFile, LiveServer.Token);
        string[] target = ["--server", $"127.0.0.1:{live.Port}", "--token-file", tokenFile];
        // Trained at 8,000 vectors (sensors need a training sample that large); the other 2,000 are observed (a quarter
        // sampled into the window, above its minimum of 100).
        Ok(target, "create", "--collection", "c", "--dim", $"{Dim}", "--metric", "l2", "--compression", "sq8", "--index", "ivf:8", "--training-threshold", "8000");
        Ok(target, "load", "--collection", "c", "--vectors", vectors);
        var drift = Assert.Single(JsonLines(Ok(target, "drift", "--collection", "c", "--json")));
        AssertDriftReport(drift);
        Assert.True(drift.GetProperty("observed").GetInt64() > 0);
        var names = drift.GetProperty("signals").EnumerateArray().Select(s => s.GetProperty("name").GetString()).ToArray();
        Assert.Contains("reconstruction_error", names);
        Assert.Contains("clip_rate", names);
        Assert.Contains("list_imbalance", names);
        Assert.True(drift.GetProperty("sensors").GetBoolean());
        Assert.Equal(JsonValueKind.Null, drift.GetProperty("reason").ValueKind);
        var text = Ok(target, "drift", "--collection", "c");
        Assert.StartsWith("collection=c  generation=1  drifted=", text, StringComparison.Ordinal);
    }

    /// <summary>
    /// A generation trained below <c>Collection.MinDriftSample</c> (8,000) has no sensors, so <c>drifted</c> false says
    /// nothing: the report says so (<c>sensors</c> false and why), locally and through a server. The server trained it
    /// in its own process and knows the sample's size; a local command reads the generation back from its files.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DriftSaysWhenTheGenerationHasNoSensors(bool server)
    {
        var (dir, vectors, _) = Files();
        await using var live = server ? LiveServer.Start(o => o, VectorDatabase.Open(Path.Combine(dir, "db"))) : null;
        var tokenFile = Path.Combine(dir, "token");
        File.WriteAllText(tokenFile, LiveServer.Token);
        string[] target = live is null ? ["--db", Path.Combine(dir, "db")] : ["--server", $"127.0.0.1:{live.Port}", "--token-file", tokenFile];
        Ok(target, "create", "--collection", "c", "--dim", $"{Dim}", "--metric", "l2", "--compression", "sq8", "--index", "flat", "--training-threshold", "1000");
        var untrained = Assert.Single(JsonLines(Ok(target, "drift", "--collection", "c", "--json")));
        Assert.False(untrained.GetProperty("sensors").GetBoolean());
        Assert.Equal("no drift sensors: generation 1 is not trained yet", untrained.GetProperty("reason").GetString());

        Ok(target, "load", "--collection", "c", "--vectors", vectors, "--batch", "1000");
        var drift = Assert.Single(JsonLines(Ok(target, "drift", "--collection", "c", "--json")));
        Assert.False(drift.GetProperty("drifted").GetBoolean());
        Assert.False(drift.GetProperty("sensors").GetBoolean());
        Assert.Empty(drift.GetProperty("signals").EnumerateArray());
        string expected = server
            ? "no drift sensors: generation 1 was trained on 1000 vectors, fewer than 8000"
            : "no drift sensors: generation 1 was trained on fewer than 8000 vectors";
        Assert.Equal(expected, drift.GetProperty("reason").GetString());
        var text = Ok(target, "drift", "--collection", "c");
        Assert.Contains($"sensors=False  reason={expected}", text, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void SchemeLifecycleThroughADatabaseDirectory()
    {
        RequireEngine();
        var (dir, vectors, queries) = Files();
        Lifecycle(["--db", Path.Combine(dir, "db")], vectors, queries, server: false);
    }

    [SkippableFact]
    public async Task SchemeLifecycleThroughAServer()
    {
        RequireEngine();
        var (dir, vectors, queries) = Files();
        await using var live = LiveServer.Start(o => o with { Flush = d => d.Flush(), Snapshot = d => d.Snapshot() }, VectorDatabase.Open(Path.Combine(dir, "db")));
        var tokenFile = Path.Combine(dir, "token");
        File.WriteAllText(tokenFile, LiveServer.Token + "\n");
        Lifecycle(["--server", $"127.0.0.1:{live.Port}", "--token-file", tokenFile], vectors, queries, server: true);
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ATrainingErrorIsVisibleInInfo(bool server)
    {
        RequireEngine();
        // pq:16 needs 256 training vectors per codebook; 20 vectors with a threshold of 10 cannot train it.
        var dir = TestData.TempDir();
        string vectors = Path.Combine(dir, "v.fvecs"), db = Path.Combine(dir, "db");
        VectorFiles.WriteFvecs(vectors, SyntheticData.Clustered(20, Dim, seed: 3));
        await using var live = server ? LiveServer.Start() : null;
        var tokenFile = Path.Combine(dir, "token");
        File.WriteAllText(tokenFile, LiveServer.Token);
        string[] target = live is null ? ["--db", db] : ["--server", $"127.0.0.1:{live.Port}", "--token-file", tokenFile];
        Ok(target, "create", "--collection", "c", "--dim", $"{Dim}", "--metric", "l2", "--compression", "pq:16", "--index", "flat", "--training-threshold", "10");
        Ok(target, "load", "--collection", "c", "--vectors", vectors);
        var info = Info(target);
        Assert.False(info.GetProperty("trained").GetBoolean());
        Assert.Equal(JsonValueKind.String, info.GetProperty("training_error").ValueKind);
        Assert.False(string.IsNullOrWhiteSpace(info.GetProperty("training_error").GetString()));
    }

    /// <summary>
    /// Every scheme/drift command's output keys and what each flag sends, through the real CLI and a server, with a
    /// stand-in database (<see cref="FakeLifecycleClient"/>) so the contract is checked whatever the engine does.
    /// </summary>
    [Fact]
    public async Task EverySchemeCommandSendsItsFlagsAndPrintsTheContractKeys()
    {
        var dir = TestData.TempDir();
        string queries = Path.Combine(dir, "q.fvecs");
        VectorFiles.WriteFvecs(queries, SyntheticData.Clustered(6, 4, seed: 5));
        await using var inner = new InProcessDatabaseClient(VectorDatabase.CreateInMemory(), ownsDatabase: true);
        await inner.CreateCollectionAsync("c", new VectorStore.Collections.CollectionOptions { Dimension = 4, Metric = Metric.L2, Compression = "sq8", Index = "flat" });
        await inner.UpsertBatchAsync("c", [1, 2, 3], new VectorMatrix([0, 0, 0, 1, 1, 1, 1, 1, 5, 5, 5, 5], 4));
        var fake = new FakeLifecycleClient(inner);
        await using var server = new VectorStore.Server.VectorStoreServer(fake, new VectorStore.Server.ServerOptions());
        server.Start();
        string[] target = ["--server", $"127.0.0.1:{server.LocalEndPoint!.Port}"];

        var list = JsonLines(Ok(target, "scheme", "list", "--collection", "c", "--json"));
        Assert.Equal([1, 2, 3, 4], list.Select(g => g.GetProperty("generation").GetInt32()));
        Assert.Equal(["retired", "live", "candidate", "candidate"], list.Select(g => g.GetProperty("state").GetString()));
        Assert.Equal(["sq8", "pq:48", "pq:96x4", "pq:7"], list.Select(g => g.GetProperty("compression").GetString()));
        Assert.Equal(["flat", "ivf:256", "ivf:256", "flat"], list.Select(g => g.GetProperty("index").GetString()));
        Assert.Equal(0.25, list[2].GetProperty("progress").GetDouble());
        Assert.Equal(12.5, list[2].GetProperty("exposure_percent").GetDouble());
        Assert.Equal("pq:7 does not divide dimension 384", list[3].GetProperty("error").GetString());
        Assert.Equal(JsonValueKind.Null, list[0].GetProperty("canary").ValueKind);
        var nested = list[2].GetProperty("canary");
        Assert.Equal(0.874, nested.GetProperty("recall_candidate").GetDouble());
        Assert.Equal("lib", nested.GetProperty("worst_segment").GetProperty("segment").GetString());
        // NaN travels and prints as null.
        Assert.Equal(JsonValueKind.Null, nested.GetProperty("segments")[2].GetProperty("recall_candidate").ValueKind);
        var text = Ok(target, "scheme", "list", "--collection", "c").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, text.Length);
        Assert.StartsWith("collection=c  generation=1  state=retired  compression=sq8  index=flat  ready=True", text[0], StringComparison.Ordinal);

        var built = Assert.Single(JsonLines(Ok(target, "scheme", "build", "--collection", "c", "--compression", "pq:2", "--index", "ivf:2", "--no-wait", "--json")));
        Assert.Equal("build c pq:2 ivf:2 False", fake.Calls[^2]);
        Assert.Equal(3, built.GetProperty("generation").GetInt32());
        Assert.Equal("candidate", built.GetProperty("state").GetString());
        Ok(target, "scheme", "build", "--collection", "c");
        Assert.Equal("build c sq8 flat True", fake.Calls[^2]);

        var canary = Assert.Single(JsonLines(Ok(target, "scheme", "canary", "--collection", "c", "--generation", "3", "--queries", queries, "--k", "5", "--rerank", "8", "--json")));
        Assert.Equal("canary c 3 6x4 k=5 rerank=8", fake.Calls[^1]);
        foreach (var key in new[] { "collection", "generation", "live_generation", "queries", "exact_queries", "k", "recall_live", "recall_candidate", "overlap",
            "live_p50_ms", "live_p99_ms", "candidate_p50_ms", "candidate_p99_ms", "live_index_bytes", "candidate_index_bytes", "worst_segment", "segments" })
            Assert.True(canary.TryGetProperty(key, out _), $"canary lacks {key}");
        Assert.Equal(0.912, canary.GetProperty("recall_live").GetDouble());
        Assert.Equal(0.81, canary.GetProperty("overlap").GetDouble());
        Assert.Equal(3, canary.GetProperty("segments").GetArrayLength());

        var promoted = Assert.Single(JsonLines(Ok(target, "scheme", "promote", "--collection", "c", "--generation", "3", "--max-recall-loss", "0.05", "--json")));
        Assert.True(promoted.GetProperty("gated").GetBoolean());
        Assert.Equal(1, promoted.GetProperty("previous").GetInt32());
        Assert.Equal(new PromotionGate { MaxRecallLoss = 0.05 }, fake.Gate);
        promoted = Assert.Single(JsonLines(Ok(target, "scheme", "promote", "--collection", "c", "--generation", "3", "--json")));
        Assert.False(promoted.GetProperty("gated").GetBoolean());
        Assert.Null(fake.Gate);
        var refused = CliRunner.Run(["scheme", "promote", "--collection", "c", "--generation", "99", .. target]);
        Assert.Equal(1, refused.Code);
        Assert.Equal("error: generation 99 is not a ready candidate", refused.Stderr.Trim());

        var rolled = Assert.Single(JsonLines(Ok(target, "scheme", "rollback", "--collection", "c", "--json")));
        Assert.Equal(2, rolled.GetProperty("generation").GetInt32());
        Assert.Equal(1, Assert.Single(JsonLines(Ok(target, "scheme", "gc", "--collection", "c", "--json"))).GetProperty("removed").GetInt32());

        Ok(target, "scheme", "exposure", "--collection", "c", "--generation", "3", "--percent", "12.5");
        Assert.Equal("exposure c 3 12.5", fake.Calls[^1]);
        var shadow = Assert.Single(JsonLines(Ok(target, "scheme", "shadow", "--collection", "c", "--generation", "3", "--rate", "0.05", "--cpu-budget", "0.5", "--segment-field", "kind", "--json")));
        Assert.Equal(new CanarySettings { Generation = 3, SampleRate = 0.05, CpuBudget = 0.5, SegmentField = "kind" }, fake.Settings);
        Assert.Equal("kind", shadow.GetProperty("segment_field").GetString());
        Assert.True(Assert.Single(JsonLines(Ok(target, "scheme", "shadow", "--collection", "c", "--stop", "--json"))).GetProperty("stopped").GetBoolean());
        Assert.Equal("stop c", fake.Calls[^1]);
        Ok(target, "scheme", "policy", "--collection", "c", "--retain", "2", "--build-on-drift", "--promote-on-drift", "--rollback-floor", "0.8", "--max-p99-factor", "2");
        Assert.Equal(new LifecyclePolicy
        {
            RetainRetired = 2, BuildCandidateOnDrift = true, PromoteWhenGatePasses = true, RollbackRecallFloor = 0.8, Gate = new PromotionGate { MaxP99Factor = 2 },
        }, fake.Policy);

        var drift = Assert.Single(JsonLines(Ok(target, "drift", "--collection", "c", "--json")));
        Assert.True(drift.GetProperty("drifted").GetBoolean());
        Assert.Equal(12_345, drift.GetProperty("observed").GetInt64());
        var signals = drift.GetProperty("signals");
        Assert.Equal("reconstruction_error", signals[0].GetProperty("name").GetString());
        Assert.Equal(0.31, signals[0].GetProperty("value").GetDouble());
        Assert.Equal(0.2, signals[0].GetProperty("threshold").GetDouble());
        Assert.True(signals[0].GetProperty("fired").GetBoolean());
        Assert.False(signals[1].GetProperty("fired").GetBoolean());
        Assert.Equal(JsonValueKind.Null, signals[1].GetProperty("baseline").ValueKind);
        Assert.Equal("built generation 3", drift.GetProperty("actions")[1].GetString());

        // search: the exposure key and segment reach the database, and JSON hits say which generation served them.
        var keyed = JsonLines(Ok(target, "search", "--collection", "c", "--queries", queries, "--k", "2", "--hits-json", "--exposure-key", "user-9", "--segment", "lib"));
        Assert.Equal("search key=user-9 segment=lib", fake.Calls[^1]);
        Assert.All(keyed[..^1], q => Assert.All(q.GetProperty("hits").EnumerateArray(), h => Assert.Equal(3, h.GetProperty("generation").GetInt32())));
        var plain = JsonLines(Ok(target, "search", "--collection", "c", "--queries", queries, "--k", "2", "--hits-json"));
        Assert.Equal(2, plain[0].GetProperty("hits")[0].GetProperty("generation").GetInt32());
        var info = Info(target);
        Assert.True(info.GetProperty("generation").GetInt32() >= 1);
        Assert.Equal(JsonValueKind.Null, info.GetProperty("training_error").ValueKind);
    }

    [Fact]
    public async Task AServerWithoutGenerationsIsAUsageErrorNamingWhy()
    {
        // As against a cluster gateway: the server's database is not an ICompressionLifecycleClient.
        await using var inner = new InProcessDatabaseClient(VectorDatabase.CreateInMemory(), ownsDatabase: true);
        await inner.CreateCollectionAsync("c", new VectorStore.Collections.CollectionOptions { Dimension = 4 });
        await using var server = new VectorStore.Server.VectorStoreServer(new DelegatingClient(inner), new VectorStore.Server.ServerOptions());
        server.Start();
        string[] target = ["--server", $"127.0.0.1:{server.LocalEndPoint!.Port}"];
        foreach (var args in new[] { new[] { "scheme", "list", "--collection", "c" }, ["scheme", "rollback", "--collection", "c", "--json"], ["drift", "--collection", "c", "--json"] })
        {
            var r = CliRunner.Run([.. args, .. target]);
            Assert.True(r.Code == 1, $"{string.Join(' ', args)}: exit {r.Code}, {r.Stderr}");
            var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("error: ", line, StringComparison.Ordinal);
            Assert.Contains("does not support compression generations", line, StringComparison.Ordinal);
            Assert.Equal("", r.Stdout);
        }
    }
}
