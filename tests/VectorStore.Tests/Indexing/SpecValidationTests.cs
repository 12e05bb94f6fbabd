using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.Tests.Cli;
using VectorStore.Tests.Protocol;
using Xunit;

namespace VectorStore.Tests.Indexing;

/// <summary>
/// Every index and compression parameter is checked when a collection is created — in process, over TCP and from the
/// CLI — and a refusal names the accepted range, so a spec that could never train is never stored.
/// </summary>
public class SpecValidationTests
{
    private const int Dim = 32;

    /// <summary>Index spec, compression spec, a fragment the error must contain (the accepted range or form).</summary>
    public static TheoryData<string, string, string> Refused => new()
    {
        { "flat:3", "sq8", "expected flat (no arguments)" },
        { "flat", "bogus", "transforms that go before one of them with '+': distill, hash, opq, pca, prune" },
        { "flat", "pca:4", "unknown compression 'pca:4' in 'pca:4' (known: bin, hash, none, pq, rq, sq8; transforms" },
        { "hnsw:0", "sq8", "M (links per node) must be an integer in 2..255, got '0'" },
        { "hnsw:1", "sq8", "M (links per node) must be an integer in 2..255, got '1'" },
        { "hnsw:-1", "sq8", "in 2..255, got '-1'" },
        { "hnsw:256", "sq8", "in 2..255, got '256'" },
        { "hnsw:100000", "sq8", "in 2..255, got '100000'" },
        { "hnsw:99999999999", "sq8", "in 2..255" },
        { "hnsw:x", "sq8", "in 2..255, got 'x'" },
        { "hnsw:", "sq8", "in 2..255, got ''" },
        { "hnsw:16,8", "sq8", "EFC (construction beam width, at least M=16) must be an integer in 16..4096, got '8'" },
        { "hnsw:16,5000", "sq8", "in 16..4096, got '5000'" },
        { "hnsw:16,0", "sq8", "in 16..4096, got '0'" },
        { "hnsw:16,64,3", "sq8", "expected hnsw:M[,EFC], got 3 arguments" },
        { "ivf", "sq8", "needs arguments: expected ivf:NLIST" },
        { "ivf:0", "sq8", "NLIST (the number of lists) must be an integer in 1..65536, got '0'" },
        { "ivf:-4", "sq8", "in 1..65536, got '-4'" },
        { "ivf:70000", "sq8", "in 1..65536, got '70000'" },
        { "ivf:16,17", "sq8", "NPROBE (lists searched, at most NLIST=16) must be an integer in 1..16, got '17'" },
        { "ivf:16,0", "sq8", "in 1..16, got '0'" },
        { "ivf:1,spill", "sq8", "spill needs NLIST in 2..65536, got 1" },
        { "ivf:16,4,bogus", "sq8", "expected ivf:NLIST[,NPROBE][,residual][,spill], got 'bogus'" },
        { "lsh", "sq8", "unknown index 'lsh'" },
        { "flat", "none:1", "'none' takes no argument" },
        { "flat", "sq8:x", "sq8 takes no argument or 'pv'" },
        { "flat", "pq:0", "M an integer in 1..dimension" },
        { "flat", "pq:33", "M must be in 1..32 (the dimension), got 33" },
        { "flat", "pq:7x4", "M must be even" },
        { "flat", "pq:8x5", "pq:Mx4 (4-bit fast-scan)" },
        { "flat", "bin:x", "bin takes no argument or 'norot'" },
        { "flat", "pca:0+sq8", "D (the output dimension) must be an integer in 1..32 (the input dimension), got '0'" },
        { "flat", "pca:33+sq8", "in 1..32 (the input dimension), got '33'" },
        { "flat", "pca:16,z+sq8", "expected pca:D or pca:D,w" },
        { "flat", "prune:16,w+sq8", "expected prune:D or prune:D,var" },
        { "flat", "distill:16,x+sq8", "expected distill:D" },
        { "flat", "distill:40+sq8", "in 1..32 (the input dimension), got '40'" },
        { "flat", "pca:16+pq:17", "M must be in 1..16 (the dimension), got 17" },
        { "flat", "hash:0", "D (the output dimension) must be an integer in 1..65536, got '0'" },
        { "flat", "hash:70000", "in 1..65536, got '70000'" },
        { "flat", "hash:64,64", "N (exact dimensions, fewer than D and at most the input dimension) must be an integer in 1..32, got '64'" },
        { "flat", "hash:8,8+sq8", "must be an integer in 1..7, got '8'" },
        { "flat", "hash:8,1,2", "expected hash:D or hash:D,N" },
        { "flat", "opq:2+pq:8", "'opq' takes no argument" },
        { "flat", "opq+sq8", "opq must be followed directly by pq:M or pq:Mx4, got 'opq+sq8'" },
        { "flat", "opq+pca:16+pq:8", "opq must be followed directly by pq:M" },
    };

    public static TheoryData<string, string> Accepted => new()
    {
        { "flat", "none" },
        { "hnsw:2", "sq8" },
        { "hnsw:255", "sq8" },
        { "hnsw:16,16", "sq8" },
        { "hnsw:16,4096", "sq8:pv" },
        { "hnsw:200", "sq8" },
        { "ivf:1", "pq:32" },
        { "ivf:65536", "pq:8x4" },
        { "ivf:16,16,residual,spill", "pca:16,w+sq8" },
        { "flat", "prune:8,var+bin" },
        { "flat", "hash:64,32" },
        { "flat", "hash:8,7+sq8" },
        { "flat", "opq+pq:8x4" },
        { "flat", "distill:32+bin:norot" },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void RefusedAtCreateWithTheAcceptedRange(string index, string compression, string expected)
    {
        using var db = VectorDatabase.CreateInMemory();
        var e = Assert.Throws<InvalidArgumentException>(() =>
            db.CreateCollection("c", new CollectionOptions { Dimension = Dim, Compression = compression, Index = index }));
        Assert.Contains(expected, e.Message);
        Assert.Empty(db.CollectionNames);
    }

    [Theory]
    [MemberData(nameof(Accepted))]
    public void AcceptedSpecsCreateAndTrain(string index, string compression)
    {
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", new CollectionOptions
        {
            Dimension = Dim, Metric = Metric.L2, Compression = compression, Index = index, TrainingThreshold = 1_000_000,
        });
        // Enough vectors for every codebook (pq trains 256 centroids per sub-space) so a spec accepted at create also trains.
        var data = SyntheticData.Clustered(600, Dim, seed: 4);
        c.UpsertBatch(Enumerable.Range(0, data.Count).Select(i => (ulong)i).ToArray(), data);
        c.BuildIndex();
        Assert.Null(c.TrainingError);
        Assert.Equal(600, c.Count);
    }

    /// <summary>
    /// An IVF index trains one list per training vector at most: <c>ivf:1024</c> trained on the first 50 vectors became
    /// <c>ivf:50</c> for good, silently. Now a create whose first training sample is smaller than NLIST is refused,
    /// and so is a generation asked for by name on fewer vectors than it has lists.
    /// </summary>
    [Fact]
    public void AnIvfIndexWithMoreListsThanItsTrainingSampleIsRefused()
    {
        using var db = VectorDatabase.CreateInMemory();
        var e = Assert.Throws<InvalidArgumentException>(() =>
            db.CreateCollection("c", new CollectionOptions { Dimension = Dim, Index = "ivf:1024", TrainingThreshold = 50 }));
        Assert.Contains("index 'ivf:1024' trains on at least 1,024 vectors (one per list), but the collection would train on 50 (training threshold 50)", e.Message);
        e = Assert.Throws<InvalidArgumentException>(() =>
            db.CreateCollection("c", new CollectionOptions { Dimension = Dim, Index = "ivf:1024", TrainingThreshold = 5000, MaxTrainingSample = 500 }));
        Assert.Contains("would train on 500 (max training sample 500)", e.Message);
        Assert.Empty(db.CollectionNames);

        // At the edge the collection is created and trains every list it asked for.
        var c = db.CreateCollection("c", new CollectionOptions { Dimension = Dim, Metric = Metric.L2, Index = "ivf:64", TrainingThreshold = 64 });
        var data = SyntheticData.Clustered(64, Dim, seed: 4);
        c.UpsertBatch(Enumerable.Range(0, data.Count).Select(i => (ulong)i).ToArray(), data);
        c.BuildIndex();
        Assert.Equal("ivf:64", c.Index!.Spec);
        e = Assert.Throws<InvalidArgumentException>(() => c.BuildGeneration("sq8", "ivf:128"));
        Assert.Contains("index 'ivf:128' trains on at least 128 vectors (one per list), and collection 'c' has 64 to train on", e.Message);
        Assert.Single(c.Generations());
    }

    /// <summary>
    /// What the check leaves alone: a collection that never trains by itself (a cluster's shard copies, threshold
    /// int.MaxValue, some created before the check), and a build given its own sample (the cluster's shared one): they
    /// train what they can, as before. A max training sample below NLIST is named as the cause.
    /// </summary>
    [Fact]
    public async Task TheIvfTrainingCheckNamesItsCauseAndLeavesShardCopiesAndGivenSamplesAlone()
    {
        using var db = VectorDatabase.CreateInMemory();
        db.CreateCollection("shard", new CollectionOptions { Dimension = Dim, Index = "ivf:1024", TrainingThreshold = int.MaxValue, MaxTrainingSample = 500 });
        var c = db.CreateCollection("c", new CollectionOptions { Dimension = Dim, Metric = Metric.L2, Index = "ivf:16", TrainingThreshold = 64, MaxTrainingSample = 64 });
        var data = SyntheticData.Clustered(200, Dim, seed: 5);
        c.UpsertBatch(Enumerable.Range(0, data.Count).Select(i => (ulong)i).ToArray(), data);
        c.BuildIndex();
        var e = Assert.Throws<InvalidArgumentException>(() => c.BuildGeneration("sq8", "ivf:128"));
        Assert.Contains("collection 'c' draws at most 64 (its max training sample, fixed at create): use fewer lists", e.Message);
        int g = c.BuildGeneration("sq8", "ivf:128", data.Slice(0, 64), 7);
        await c.WaitForGeneration(g);
        Assert.StartsWith("ivf:64,", c.Generations().Single(x => x.Generation == g).Index); // 64 lists, as before the check
    }

    [Fact]
    public async Task RefusedOverTcpWithTheSameMessage()
    {
        await using var live = LiveServer.Start();
        await using var client = await live.ConnectAsync();
        foreach (var (index, compression, expected) in new[] { ("hnsw:1", "sq8", "in 2..255, got '1'"), ("hnsw:100000", "sq8", "in 2..255"), ("ivf:8,9", "sq8", "in 1..8, got '9'"), ("flat", "pq:33", "in 1..32") })
        {
            var e = await Assert.ThrowsAsync<InvalidArgumentException>(() =>
                client.CreateCollectionAsync("c", new CollectionOptions { Dimension = Dim, Compression = compression, Index = index }));
            Assert.Contains(expected, e.Message);
        }
        Assert.Empty(await client.CollectionNamesAsync());
    }

    /// <summary>
    /// Issue 16 item 6: the specs that used to be accepted and then failed training for ever are refused by <c>create</c>
    /// both on a database directory and through a server, with exit 1, one <c>error:</c> line, and nothing created.
    /// </summary>
    [Theory]
    [InlineData("hnsw:0", "M (links per node) must be an integer in 2..255, got '0'")]
    [InlineData("hnsw:-1", "M (links per node) must be an integer in 2..255, got '-1'")]
    [InlineData("flat:3", "expected flat (no arguments)")]
    public async Task RefusedByTheCliCreateOverDbAndServer(string index, string expected)
    {
        var dir = TestData.TempDir();
        await using var live = LiveServer.Start();
        var tokenFile = Path.Combine(dir, "token");
        File.WriteAllText(tokenFile, LiveServer.Token);
        string db = Path.Combine(dir, "db");
        foreach (var target in new[] { new[] { "--db", db }, ["--server", $"127.0.0.1:{live.Port}", "--token-file", tokenFile] })
        {
            var (code, stdout, stderr) = CliRunner.Run(["create", .. target, "--collection", "c", "--dim", "8", "--metric", "l2", "--index", index]);
            Assert.True(code == 1, $"{string.Join(' ', target)}: exit {code}, {stderr}");
            Assert.StartsWith("error: ", Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
            Assert.Contains(expected, stderr, StringComparison.Ordinal);
            Assert.Equal("", stdout);
        }
        Assert.Empty(live.Database.CollectionNames);
        // Refused before the directory is touched.
        Assert.False(Directory.Exists(db));
    }

    [Fact]
    public void RefusedByTheCliCreateWithExitCode1()
    {
        var dir = TestData.TempDir();
        var (code, _, stderr) = CliRunner.Run("create", "--db", dir, "--collection", "c", "--dim", "32", "--metric", "l2", "--compression", "sq8", "--index", "hnsw:100000");
        Assert.Equal(1, code);
        Assert.Contains("in 2..255, got '100000'", stderr);
    }
}
