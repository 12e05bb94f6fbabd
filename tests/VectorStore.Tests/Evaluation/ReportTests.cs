using System.CommandLine;
using System.Text.Json;
using VectorStore.Cli;
using VectorStore.Evaluation;
using VectorStore.IO;
using Xunit;

namespace VectorStore.Tests.Evaluation;

/// <summary>The <c>report</c> command end to end on small synthetic data: table, JSON, HTML page and two non-empty PNG plots.</summary>
public class ReportTests
{
    private static int RunCli(params string[] args)
    {
        return CliCommand.Run(CliCommand.BuildRoot(), args);
    }

    private static (string Base, string Query, string Out) Files()
    {
        string dir = TestData.TempDir();
        var data = SyntheticData.Clustered(2_100, 32, seed: 4, normalize: true);
        VectorFiles.WriteFvecs(Path.Combine(dir, "base.fvecs"), data.Slice(0, 2_000));
        VectorFiles.WriteFvecs(Path.Combine(dir, "query.fvecs"), data.Slice(2_000, 100));
        return (Path.Combine(dir, "base.fvecs"), Path.Combine(dir, "query.fvecs"), Path.Combine(dir, "out"));
    }

    [Fact]
    public void ReportWritesHtmlJsonAndBothPlots()
    {
        var (b, q, o) = Files();
        int code = RunCli("report", "--base", b, "--query", q, "--metric", "cosine", "--variants", "none,sq8,pca:16+sq8,bin",
            "--rerank", "20", "--out", o, "--json");
        Assert.Equal(0, code);
        var html = File.ReadAllText(Path.Combine(o, "report.html"));
        foreach (var png in new[] { "recall_vs_bytes.png", "recall_vs_qps.png" })
        {
            var path = Path.Combine(o, png);
            Assert.True(File.Exists(path), $"{png} missing");
            var bytes = File.ReadAllBytes(path);
            Assert.True(bytes.Length > 1_000, $"{png} has only {bytes.Length} bytes");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
            Assert.Contains($"src=\"{png}\"", html);
        }
        Assert.Equal(File.ReadAllLines(Path.Combine(o, "report.json")), File.ReadAllLines(Path.Combine(o, "report.jsonl")));
        var rows = File.ReadAllLines(Path.Combine(o, "report.json")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(["none", "sq8", "pca:16+sq8", "bin"], rows.Select(r => r.GetProperty("compression").GetString()));
        foreach (var r in rows)
        {
            foreach (var key in new[] { "index", "param", "k", "recall_at_k", "qps", "threads", "p50_us", "p99_us", "build_seconds",
                         "bytes_per_vector", "count", "dim", "recall_at_1", "recall_at_10", "recall_at_100", "ndcg_at_10", "spearman",
                         "score_mae", "qps_all_threads", "metric", "train_seconds", "peak_rss_mb", "compression_ratio", "rerank_bytes_per_vector" })
                Assert.True(r.TryGetProperty(key, out _), $"missing key {key}");
            Assert.InRange(r.GetProperty("recall_at_10").GetDouble(), 0.8, 1.0);
        }
        // The uncompressed baseline is exact: its scores match exactly and its ratio is 1.
        Assert.Equal(1.0, rows[0].GetProperty("recall_at_10").GetDouble(), 3);
        Assert.Equal(1.0, rows[0].GetProperty("spearman").GetDouble(), 3);
        Assert.True(rows[1].GetProperty("compression_ratio").GetDouble() > 3.5);
    }

    [Fact]
    public void UnknownVariantIsReportedAndTheOthersStillRun()
    {
        var (b, q, o) = Files();
        int code = RunCli("report", "--base", b, "--query", q, "--variants", "sq8,pq:999x7z,nosuch", "--out", o);
        Assert.Equal(1, code);
        var rows = File.ReadAllLines(Path.Combine(o, "report.json")).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(3, rows.Length);
        Assert.False(rows[0].TryGetProperty("error", out _));
        Assert.Contains("unknown", rows[2].GetProperty("error").GetString());
        Assert.True(File.Exists(Path.Combine(o, "report.html")));
    }

    [Fact]
    public void BadInputIsExitCodeOne()
    {
        var (b, q, o) = Files();
        Assert.Equal(1, RunCli("report", "--base", b, "--query", q, "--k", "0", "--out", o));
        Assert.Equal(1, RunCli("report", "--base", b, "--query", q, "--index", "nosuch", "--out", o));
        Assert.Equal(1, RunCli("report", "--base", b, "--query", q, "--metric", "manhattan", "--out", o));
    }

    [Theory]
    [InlineData("none,sq8,pq:48", "none|sq8|pq:48")]
    [InlineData("pca:128,w+sq8,prune:192,var+sq8,hash:256,32,bin", "pca:128,w+sq8|prune:192,var+sq8|hash:256,32|bin")]
    [InlineData("sq8,nosuch", "sq8|nosuch")]
    [InlineData("pq:999x7z,nosuch", "pq:999x7z|nosuch")]
    [InlineData("pca:16;nosuch:3,4", "pca:16|nosuch:3,4")]
    public void VariantListKeepsCommasInsideSpecs(string text, string expected)
    {
        Assert.Equal(expected.Split('|'), VectorStore.Cli.Commands.ReportCommand.SplitVariants(text));
    }

    [Fact]
    public void SpearmanAndNdcgHelpers()
    {
        Assert.Equal(1.0, ReportRunner.Spearman([1, 2, 3, 4], [10, 20, 30, 40]), 9);
        Assert.Equal(-1.0, ReportRunner.Spearman([1, 2, 3, 4], [4, 3, 2, 1]), 9);
        Assert.Equal(1.0, ReportRunner.Ndcg([[1, 2]], [[2, 1]], 2), 9);
        Assert.Equal(0.0, ReportRunner.Ndcg([[5, 6]], [[1, 2]], 2), 9);
    }
}
