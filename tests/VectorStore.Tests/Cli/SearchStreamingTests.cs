using System.Text.Json.Nodes;
using VectorStore.Cli.Commands;
using VectorStore.Client;
using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.IO;
using VectorStore.Tests.Protocol;
using Xunit;

namespace VectorStore.Tests.Cli;

/// <summary>
/// <c>search</c> prints each query's hits as it is answered instead of keeping every query's hits to the end (with a
/// large k over many queries that took over a gigabyte), and its ivecs file still appears only when complete.
/// </summary>
public sealed class SearchStreamingTests
{
    /// <summary>Answers searches until <paramref name="answers"/> have been given, then fails as a dropped server would.</summary>
    private sealed class FailingAfter(IVectorDatabaseClient inner, int answers) : DelegatingClient(inner)
    {
        private int _given;
        public StringWriter? Watched { get; init; }
        public List<int> LinesSeenAtEachSearch { get; } = [];

        public override Task<SearchHit[]> SearchAsync(string name, ReadOnlyMemory<float> query, SearchOptions? options = null, CancellationToken cancellationToken = default)
        {
            LinesSeenAtEachSearch.Add(Lines(Watched?.ToString() ?? "").Length);
            if (_given++ == answers) throw new VectorStoreConnectionException("the server closed the connection");
            return base.SearchAsync(name, query, options, cancellationToken);
        }
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static (InProcessDatabaseClient Client, string Queries, string Dir) Setup()
    {
        string dir = TestData.TempDir();
        var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", new CollectionOptions { Dimension = 8, Metric = Metric.L2 });
        var data = SyntheticData.Clustered(200, 8, seed: 4);
        c.UpsertBatch(Enumerable.Range(0, 200).Select(i => (ulong)i).ToArray(), data);
        string queries = Path.Combine(dir, "q.fvecs");
        VectorFiles.WriteFvecs(queries, data.Slice(0, 6));
        return (new InProcessDatabaseClient(db), queries, dir);
    }

    [Fact]
    public async Task EachQuerysHitsArePrintedBeforeTheNextIsSearched()
    {
        var (client, queries, dir) = Setup();
        using var _ = client;
        var plain = new StringWriter();
        var watching = new FailingAfter(client, answers: int.MaxValue) { Watched = plain };
        await SearchCommand.SearchAsync(watching, "c", queries, new SearchOptions { K = 3 }, null, json: false, plain);
        Assert.Equal([0, 1, 2, 3, 4, 5], watching.LinesSeenAtEachSearch);
        var lines = Lines(plain.ToString());
        Assert.Equal(6, lines.Length);
        for (int q = 0; q < 6; q++) Assert.StartsWith($"{q}:", lines[q]); // each query is a base row: itself first

        var hits = new StringWriter();
        var hitsWatching = new FailingAfter(client, answers: int.MaxValue) { Watched = hits };
        await SearchCommand.SearchAsync(hitsWatching, "c", queries, new SearchOptions { K = 3 }, null, json: true, hits, hitsJson: true);
        Assert.Equal([0, 1, 2, 3, 4, 5], hitsWatching.LinesSeenAtEachSearch);
        var json = Lines(hits.ToString());
        Assert.Equal(7, json.Length);
        Assert.Equal(5, (int)JsonNode.Parse(json[5])!["query"]!);
        Assert.Equal(6, (int)JsonNode.Parse(json[6])!["queries"]!);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task AFailureMidwayKeepsThePrintedQueriesAndLeavesNoIvecsFile()
    {
        var (client, queries, dir) = Setup();
        using var _ = client;
        var stdout = new StringWriter();
        await Assert.ThrowsAsync<VectorStoreConnectionException>(() =>
            SearchCommand.SearchAsync(new FailingAfter(client, answers: 3), "c", queries, new SearchOptions { K = 3 }, null, json: false, stdout));
        Assert.Equal(3, Lines(stdout.ToString()).Length);

        string ivecs = Path.Combine(dir, "r.ivecs");
        await Assert.ThrowsAsync<VectorStoreConnectionException>(() =>
            SearchCommand.SearchAsync(new FailingAfter(client, answers: 3), "c", queries, new SearchOptions { K = 3 }, ivecs, json: true, new StringWriter()));
        Assert.Empty(Directory.GetFiles(dir, "*r.ivecs*")); // neither the file nor its temporary

        await SearchCommand.SearchAsync(client, "c", queries, new SearchOptions { K = 3 }, ivecs, json: true, new StringWriter());
        var rows = VectorFiles.ReadIvecs(ivecs);
        Assert.Equal(6, rows.Length);
        for (int q = 0; q < 6; q++) Assert.Equal(q, rows[q][0]);
        Directory.Delete(dir, recursive: true);
    }
}
