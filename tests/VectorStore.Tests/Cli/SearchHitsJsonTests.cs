using System.Text.Json;
using VectorStore.Evaluation;
using VectorStore.IO;
using Xunit;

namespace VectorStore.Tests.Cli;

/// <summary>
/// <c>search --hits-json</c> prints one line of hits per query and then the contract's summary line;
/// <c>--json</c> alone still prints only the summary line the CLI contract pins. <c>load</c> ends with its summary line.
/// </summary>
public sealed class SearchHitsJsonTests
{
    [Fact]
    public void HitsJsonPrintsOneLinePerQueryThenTheSummary()
    {
        var dir = TestData.TempDir();
        string b = Path.Combine(dir, "b.fvecs"), q = Path.Combine(dir, "q.fvecs"), db = Path.Combine(dir, "db");
        VectorFiles.WriteFvecs(b, SyntheticData.Clustered(200, 8, seed: 1));
        // The first three base rows as queries: each must find itself first (exact flat search).
        VectorFiles.WriteFvecs(q, VectorFiles.ReadVectors(b).Slice(0, 3));
        Assert.Equal(0, CliRunner.Run("create", "--db", db, "--collection", "c", "--dim", "8", "--metric", "l2").Code);
        var load = CliRunner.Run("load", "--db", db, "--collection", "c", "--vectors", b, "--first-id", "7");
        Assert.Equal(0, load.Code);
        Assert.Matches(@"^loaded 200 vectors in [0-9.]+ s \([0-9]+ vectors/s\)$", load.Stderr.Trim());

        var hits = CliRunner.Run("search", "--db", db, "--collection", "c", "--queries", q, "--k", "4", "--hits-json");
        Assert.Equal(0, hits.Code);
        var lines = hits.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // Untrained (200 vectors, below the threshold), so answered exactly: still by the generation info reports.
        using (var info = JsonDocument.Parse(CliRunner.Run("info", "--db", db, "--json").Stdout))
        {
            var collection = info.RootElement.GetProperty("collections")[0];
            Assert.False(collection.GetProperty("trained").GetBoolean());
            Assert.Equal(1, collection.GetProperty("generation").GetInt32());
        }
        Assert.Equal(4, lines.Length);
        for (int i = 0; i < 3; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            Assert.Equal(i, doc.RootElement.GetProperty("query").GetInt32());
            var h = doc.RootElement.GetProperty("hits");
            Assert.Equal(4, h.GetArrayLength());
            Assert.Equal(7UL + (ulong)i, h[0].GetProperty("id").GetUInt64());
            Assert.Equal(0.0, h[0].GetProperty("score").GetDouble(), 3);
            foreach (var hit in h.EnumerateArray()) Assert.Equal(1, hit.GetProperty("generation").GetInt32());
        }
        using var summary = JsonDocument.Parse(lines[3]);
        Assert.Equal(3, summary.RootElement.GetProperty("queries").GetInt32());

        var json = CliRunner.Run("search", "--db", db, "--collection", "c", "--queries", q, "--k", "4", "--json");
        using var only = JsonDocument.Parse(Assert.Single(json.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.True(only.RootElement.TryGetProperty("p99_us", out _));
    }

    /// <summary>
    /// A score that overflows float (an inner product or squared distance of vectors near float.MaxValue) is printed
    /// as null: JSON has no literal for ±Infinity or NaN, and writing one used to abort the command with exit 2.
    /// </summary>
    [Theory]
    [InlineData("ip", "none")]
    [InlineData("l2", "sq8")]
    public void NonFiniteScoresPrintAsNull(string metric, string compression)
    {
        var dir = TestData.TempDir();
        string b = Path.Combine(dir, "b.fvecs"), db = Path.Combine(dir, "db");
        VectorFiles.WriteFvecs(b, new VectorMatrix([1e-30f, 0, 0, 0, 3e38f, 3e38f, 3e38f, 3e38f, -3e38f, 0, 0, 0], 4));
        Assert.Equal(0, CliRunner.Run("create", "--db", db, "--collection", "c", "--dim", "4", "--metric", metric,
            "--compression", compression, "--training-threshold", "3").Code);
        Assert.Equal(0, CliRunner.Run("load", "--db", db, "--collection", "c", "--vectors", b).Code);

        var run = CliRunner.Run("search", "--db", db, "--collection", "c", "--queries", b, "--k", "3", "--hits-json");
        Assert.True(run.Code == 0, run.Stderr);
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        var scores = new List<JsonElement>();
        for (int i = 0; i < 3; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            var hits = doc.RootElement.GetProperty("hits");
            Assert.Equal(3, hits.GetArrayLength());
            foreach (var h in hits.EnumerateArray()) scores.Add(h.GetProperty("score").Clone());
        }
        // Every score is a finite number or null, and the overflowing pairs are there to be null.
        Assert.All(scores, s => Assert.True(s.ValueKind == JsonValueKind.Null || double.IsFinite(s.GetDouble())));
        Assert.Contains(scores, s => s.ValueKind == JsonValueKind.Null);
    }

}
