using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using VectorStore.Cli.Commands;
using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.IO;
using VectorStore.Protocol;
using VectorStore.Tests.Protocol;
using Xunit;

namespace VectorStore.Tests.Cli;

/// <summary>
/// The database commands' one implementation run against a local database and through a server: the same output,
/// and a server's transfer limits split the work without changing what is printed or written.
/// </summary>
public sealed class DatabaseCommandsBothWaysTests
{
    private sealed record Outputs(string[] Acks, string Search, string SearchJsonKeys, byte[] Ivecs, byte[] Export, string Ids, string Info, string InfoJson, string CompactKeys);

    private static async Task<Outputs> RunAll(IVectorDatabaseClient db, string dir, string vectors, string queries, int batch)
    {
        await CreateCommand.CreateAsync(db, "c", new CollectionOptions { Dimension = 12, Metric = Metric.L2, Compression = "sq8", TrainingThreshold = 300 });
        var load = new StringWriter();
        await LoadCommand.LoadAsync(db, "c", vectors, firstId: 1000, batch, load, writers: 3, payloadIds: true);
        var search = new StringWriter();
        var so = new SearchOptions { K = 5, Rerank = 20 };
        await SearchCommand.SearchAsync(db, "c", queries, so, null, json: false, search);
        var searchJson = new StringWriter();
        string ivecs = Path.Combine(dir, "r.ivecs");
        await SearchCommand.SearchAsync(db, "c", queries, so, ivecs, json: true, searchJson);
        string export = Path.Combine(dir, "e.fvecs"), ids = Path.Combine(dir, "ids.txt");
        Assert.Equal(800, await ExportCommand.ExportAsync(db, "c", export, ids));
        var info = new StringWriter();
        await InfoCommand.InfoAsync(db, "c", info, json: false);
        var infoJson = new StringWriter();
        await InfoCommand.InfoAsync(db, null, infoJson);
        var compact = new StringWriter();
        await CompactCommand.CompactAsync(db, "c", json: true, compact);
        var compactRow = JsonNode.Parse(compact.ToString())!.AsObject();
        Assert.True((long)compactRow["bytes_after"]! > 0);
        return new Outputs(
            load.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray(),
            search.ToString(),
            string.Join(',', JsonNode.Parse(searchJson.ToString())!.AsObject().Select(kv => kv.Key)),
            File.ReadAllBytes(ivecs), File.ReadAllBytes(export), File.ReadAllText(ids),
            Regex.Replace(info.ToString(), @"bytes_on_disk=\d+", "bytes_on_disk=N"),
            Regex.Replace(infoJson.ToString(), "\"bytes_on_disk\":\\d+", "\"bytes_on_disk\":N"),
            string.Join(',', compactRow.Select(kv => kv.Key)));
    }

    private static (string Dir, string Vectors, string Queries, VectorMatrix Data) Files()
    {
        var dir = TestData.TempDir();
        var data = SyntheticData.Clustered(800, 12, seed: 9);
        string vectors = Path.Combine(dir, "v.fvecs"), queries = Path.Combine(dir, "q.fvecs");
        VectorFiles.WriteFvecs(vectors, data);
        VectorFiles.WriteFvecs(queries, data.Slice(40, 30));
        return (dir, vectors, queries, data);
    }

    private static LiveServer Serve(ProtocolLimits? limits = null) =>
        LiveServer.Start(o => o with { Limits = limits ?? o.Limits, Flush = d => d.Flush(), Snapshot = d => d.Snapshot() }, VectorDatabase.Open(TestData.TempDir()));

    [Fact]
    public async Task EveryDatabaseCommandPrintsAndWritesTheSameLocallyAndThroughAServer()
    {
        var (dir, vectors, queries, data) = Files();
        Outputs local;
        await using (var db = new InProcessDatabaseClient(VectorDatabase.Open(Path.Combine(dir, "db")), ownsDatabase: true))
            local = await RunAll(db, Directory.CreateDirectory(Path.Combine(dir, "l")).FullName, vectors, queries, batch: 300);
        await using var live = Serve();
        await using var client = await live.ConnectAsync();
        var remote = await RunAll(client, Directory.CreateDirectory(Path.Combine(dir, "r")).FullName, vectors, queries, batch: 300);

        Assert.Equal(["acked 1000 1299", "acked 1300 1599", "acked 1600 1799"], local.Acks);
        Assert.Equal(local.Acks, remote.Acks);
        Assert.Equal(30, local.Search.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.StartsWith("1040:0 ", local.Search);
        Assert.Equal(local.Search, remote.Search);
        Assert.Equal("queries,qps,p50_us,p99_us,k", local.SearchJsonKeys);
        Assert.Equal(local.SearchJsonKeys, remote.SearchJsonKeys);
        Assert.Equal(local.Ivecs, remote.Ivecs);
        Assert.Equal(File.ReadAllBytes(vectors), local.Export);
        Assert.Equal(local.Export, remote.Export);
        Assert.Equal(string.Concat(Enumerable.Range(1000, 800).Select(i => i + Environment.NewLine)), local.Ids);
        Assert.Equal(local.Ids, remote.Ids);
        Assert.Contains("name=c  count=800  dim=12  metric=l2  compression=sq8  index=flat  bytes_on_disk=N", local.Info);
        Assert.Equal(local.Info, remote.Info);
        Assert.Equal(local.InfoJson, remote.InfoJson);
        Assert.Equal("collection,bytes_before,bytes_after", local.CompactKeys);
        Assert.Equal(local.CompactKeys, remote.CompactKeys);
        var stored = live.Database.GetCollection("c").Get(1799)!;
        Assert.Equal("id:1799"u8.ToArray(), stored.Payload);
        Assert.Equal(data.Row(799).ToArray(), stored.Vector);
    }

    [Fact]
    public async Task AServersSmallLimitsSplitLoadsAndExportsWithoutChangingWhatIsWritten()
    {
        var (dir, vectors, _, _) = Files();
        await using var live = Serve(new ProtocolLimits { MaxBatch = 64 });
        await using var client = await live.ConnectAsync();
        await CreateCommand.CreateAsync(client, "c", new CollectionOptions { Dimension = 12, Metric = Metric.L2, Compression = "none" });
        var load = new StringWriter();
        await LoadCommand.LoadAsync(client, "c", vectors, firstId: 0, batch: 300, load);
        // Batches of 300 do not fit a 64-vector limit: each acknowledged batch is one the server accepted.
        var acks = load.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(13, acks.Length);
        Assert.Equal("acked 0 63", acks[0]);
        Assert.Equal("acked 768 799", acks[^1]);
        string export = Path.Combine(dir, "e.fvecs"), ids = Path.Combine(dir, "ids.txt");
        Assert.Equal(800, await ExportCommand.ExportAsync(client, "c", export, ids));
        Assert.Equal(File.ReadAllBytes(vectors), File.ReadAllBytes(export));
        Assert.Equal(800, File.ReadAllLines(ids).Length);
    }
}
