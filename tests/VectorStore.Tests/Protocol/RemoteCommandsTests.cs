using System.Text.Json;
using VectorStore.Cli.Commands;
using VectorStore.Collections;
using VectorStore.Evaluation;
using VectorStore.IO;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>The CLI's <c>--server</c> code paths against a live server: same outputs as the contract prescribes.</summary>
public class RemoteCommandsTests
{
    [Fact]
    public async Task CreateLoadSearchExportInfoThroughTheServer()
    {
        await using var live = LiveServer.Start();
        var dir = TestData.TempDir();
        var tokenFile = Path.Combine(dir, "token");
        File.WriteAllText(tokenFile, LiveServer.Token + "\n");
        var vectorsPath = Path.Combine(dir, "v.fvecs");
        var data = SyntheticData.Clustered(1000, 8, seed: 4);
        VectorFiles.WriteFvecs(vectorsPath, data);
        var queriesPath = Path.Combine(dir, "q.fvecs");
        VectorFiles.WriteFvecs(queriesPath, data.Slice(100, 20));

        await using var client = await DatabaseTarget.ConnectAsync($"127.0.0.1:{live.Port}", tokenFile);
        await CreateCommand.CreateAsync(client, "c", new CollectionOptions { Dimension = 8, Metric = Metric.L2, Compression = "sq8", TrainingThreshold = 500 });

        var loadOut = new StringWriter();
        await LoadCommand.LoadAsync(client, "c", vectorsPath, firstId: 10, batch: 300, loadOut);
        Assert.Equal(["acked 10 309", "acked 310 609", "acked 610 909", "acked 910 1009"], loadOut.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));

        // export writes exactly the loaded vectors (L2 stores them unchanged) in ascending id order.
        var exportPath = Path.Combine(dir, "e.fvecs");
        var idsPath = Path.Combine(dir, "ids.txt");
        await ExportCommand.ExportAsync(client, "c", exportPath, idsPath);
        Assert.Equal(File.ReadAllBytes(vectorsPath), File.ReadAllBytes(exportPath));
        Assert.Equal(Enumerable.Range(10, 1000).Select(i => i.ToString()), File.ReadAllLines(idsPath));

        var outPath = Path.Combine(dir, "r.ivecs");
        var searchOut = new StringWriter();
        var so = new SearchOptions { K = 5, Rerank = 20 };
        await SearchCommand.SearchAsync(client, "c", queriesPath, so, outPath, json: true, searchOut);
        var summary = JsonDocument.Parse(searchOut.ToString()).RootElement;
        Assert.Equal(20, summary.GetProperty("queries").GetInt32());
        Assert.True(summary.GetProperty("qps").GetDouble() > 0);
        var rows = VectorFiles.ReadIvecs(outPath);
        var c = live.Database.GetCollection("c");
        for (int q = 0; q < 20; q++)
            Assert.Equal(c.Search(data.Row(100 + q), so).Select(h => (int)h.Id), rows[q]);

        var infoOut = new StringWriter();
        await InfoCommand.InfoAsync(client, null, infoOut);
        var col = Assert.Single(JsonDocument.Parse(infoOut.ToString()).RootElement.GetProperty("collections").EnumerateArray());
        Assert.Equal("c", col.GetProperty("name").GetString());
        Assert.Equal(1000, col.GetProperty("count").GetInt32());
        Assert.Equal(8, col.GetProperty("dim").GetInt32());
        Assert.Equal("l2", col.GetProperty("metric").GetString());
        Assert.Equal("sq8", col.GetProperty("compression").GetString());
    }
}
