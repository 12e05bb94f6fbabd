using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.IO;
using VectorStore.Tests.Cli;
using VectorStore.Tests.Protocol;
using Xunit;

namespace VectorStore.Tests.Collections;

/// <summary>
/// Cosine is undefined for a zero vector: one is refused as data and as a query with <see cref="InvalidVectorException"/>
/// naming its batch row, embedded, through the server (which goes on serving) and by the CLI (exit 1), and a refused
/// batch leaves nothing in the collection or its log. Before, a zero vector was stored as it was and scored −0 against
/// every query.
/// </summary>
public sealed class CosineZeroVectorTests
{
    private const int Dim = 8;

    private static CollectionOptions Cosine => new() { Dimension = Dim, Metric = Metric.Cosine, Compression = "none" };

    /// <summary>Five clustered rows, row 2 zeroed.</summary>
    private static VectorMatrix WithZeroRow()
    {
        var m = SyntheticData.Clustered(5, Dim, seed: 4);
        m[2].Clear();
        return m;
    }

    [Fact]
    public async Task EmbeddedUpsertsAndSearchesRefuseAZeroVectorAndTheStoreStaysIntact()
    {
        string dir = TestData.TempDir();
        var good = SyntheticData.Clustered(10, Dim, seed: 3);
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.CreateCollection("c", Cosine);
            c.UpsertBatch(Enumerable.Range(1, 10).Select(i => (ulong)i).ToArray(), good);

            var e = Assert.Throws<InvalidVectorException>(() => c.UpsertBatch([100, 101, 102, 103, 104], WithZeroRow()));
            Assert.Equal("vector for id 102 (batch row 2) is a zero vector, for which cosine similarity is undefined", e.Message);
            Assert.Throws<InvalidVectorException>(() => c.Upsert(200, new float[Dim]));
            await Assert.ThrowsAsync<InvalidVectorException>(() => c.UpsertBatchAsync([300, 301, 302, 303, 304], WithZeroRow()));

            Assert.Equal("query is a zero vector, for which cosine similarity is undefined",
                Assert.Throws<InvalidVectorException>(() => c.Search(new float[Dim])).Message);
            Assert.Equal("query 2 is a zero vector, for which cosine similarity is undefined",
                Assert.Throws<InvalidVectorException>(() => c.SearchBatch(WithZeroRow())).Message);
            Assert.Equal(10, c.Count);
            Assert.Equal(1ul, c.Search(good.Row(0), new SearchOptions { K = 1 })[0].Id);
        }
        // Nothing of a refused batch reached the log: the reopened collection has only the good rows.
        using (var db = VectorDatabase.Open(dir))
        {
            var c = db.GetCollection("c");
            Assert.Equal(10, c.Count);
            Assert.All(new ulong[] { 100, 101, 102, 200, 300, 301 }, id => Assert.False(c.Contains(id)));
        }
    }

    [Fact]
    public void OtherMetricsStillAcceptAZeroVector()
    {
        using var db = VectorDatabase.CreateInMemory();
        foreach (var metric in new[] { Metric.L2, Metric.InnerProduct })
        {
            var c = db.CreateCollection(metric.ToString(), Cosine with { Metric = metric });
            c.UpsertBatch([1, 2, 3, 4, 5], WithZeroRow());
            Assert.Equal(5, c.Search(new float[Dim], new SearchOptions { K = 5 }).Length);
        }
    }

    [Fact]
    public async Task TheServerSendsTheErrorBackAndGoesOnServing()
    {
        await using var live = LiveServer.Start(db: VectorDatabase.Open(TestData.TempDir()));
        await using var client = await live.ConnectAsync();
        await client.CreateCollectionAsync("c", Cosine);
        var good = SyntheticData.Clustered(10, Dim, seed: 3);
        await client.UpsertBatchAsync("c", Enumerable.Range(1, 10).Select(i => (ulong)i).ToArray(), good);

        var e = await Assert.ThrowsAsync<InvalidVectorException>(() => client.UpsertBatchAsync("c", [100, 101, 102, 103, 104], WithZeroRow()));
        Assert.Contains("id 102 (batch row 2) is a zero vector", e.Message, StringComparison.Ordinal);
        var q = await Assert.ThrowsAsync<InvalidVectorException>(() => client.SearchBatchAsync("c", WithZeroRow()));
        Assert.Contains("query 2 is a zero vector", q.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidVectorException>(() => client.SearchAsync("c", new float[Dim]));

        // Same connection, same server: still answering, and the refused batch left nothing.
        Assert.Equal(1ul, (await client.SearchAsync("c", good.Row(0).ToArray(), new SearchOptions { K = 1 }))[0].Id);
        Assert.Equal(10, (await client.GetInfoAsync("c")).Stats.Count);
    }

    [Fact]
    public void TheCliExitsOneNamingTheRow()
    {
        string dir = TestData.TempDir(), db = Path.Combine(dir, "db");
        string vectors = Path.Combine(dir, "v.fvecs"), queries = Path.Combine(dir, "q.fvecs");
        VectorFiles.WriteFvecs(vectors, WithZeroRow());
        VectorFiles.WriteFvecs(queries, WithZeroRow());
        Assert.Equal(0, CliRunner.Run("create", "--db", db, "--collection", "c", "--dim", $"{Dim}", "--metric", "cosine", "--compression", "none").Code);

        var load = CliRunner.Run("load", "--db", db, "--collection", "c", "--vectors", vectors, "--first-id", "40");
        Assert.Equal(1, load.Code);
        Assert.Contains("error: vector for id 42 (batch row 2) is a zero vector, for which cosine similarity is undefined", load.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("acked", load.Stdout, StringComparison.Ordinal);

        var search = CliRunner.Run("search", "--db", db, "--collection", "c", "--queries", queries, "--k", "3");
        Assert.Equal(1, search.Code);
        Assert.Contains("error: query 2 is a zero vector, for which cosine similarity is undefined", search.Stderr, StringComparison.Ordinal);
    }
}
