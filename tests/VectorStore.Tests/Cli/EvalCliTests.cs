using System.Text.Json;
using VectorStore.Evaluation;
using VectorStore.IO;
using Xunit;

namespace VectorStore.Tests.Cli;

public class EvalCliTests
{
    private readonly string _dir = TestData.TempDir();

    private (string Base, string Query) WriteSmallSet()
    {
        var b = Path.Combine(_dir, "b.fvecs");
        var q = Path.Combine(_dir, "q.fvecs");
        VectorFiles.WriteFvecs(b, SyntheticData.Clustered(800, 16, seed: 1));
        VectorFiles.WriteFvecs(q, SyntheticData.Clustered(20, 16, seed: 2));
        return (b, q);
    }

    private static void AssertOneErrorLine(int expectedCode, (int Code, string Stdout, string Stderr) r, string mention)
    {
        Assert.Equal(expectedCode, r.Code);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error:", lines[0]);
        Assert.Contains(mention, lines[0]);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    /// <summary>
    /// <c>--max-base N</c> takes the first N base rows, and the first N rows of <c>--fields</c> with them: a fields file
    /// for the whole base file is accepted, and the filter is judged on those N rows only (selectivity 50 of 200 here,
    /// where the whole file would give 650 of 800). A fields file with fewer rows than the base rows used is refused.
    /// </summary>
    [Fact]
    public void MaxBaseCutsTheFieldsToTheSameFirstRows()
    {
        var (b, q) = WriteSmallSet();
        string Tsv(string name, int rows)
        {
            string path = Path.Combine(_dir, name);
            File.WriteAllLines(path, ["kind", .. Enumerable.Range(0, rows).Select(i => i < 50 || i >= 200 ? "a" : "b")]);
            return path;
        }
        string[] Args(string fields, params string[] more) =>
            ["eval", "--base", b, "--query", q, "--compression", "none", "--index", "flat", "--k", "5", "--min-time", "0", "--json",
             "--fields", fields, "--where", "kind == 'a'", .. more];

        var r = CliRunner.Run(Args(Tsv("all.tsv", 800), "--max-base", "200"));
        Assert.True(r.Code == 0, r.Stderr);
        var line = JsonDocument.Parse(Assert.Single(r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))).RootElement;
        Assert.Equal(200, line.GetProperty("count").GetInt32());
        Assert.Equal(0.25, line.GetProperty("filter_selectivity").GetDouble());

        AssertOneErrorLine(1, CliRunner.Run(Args(Tsv("short.tsv", 150), "--max-base", "200")), "150 rows of field values for 200 base vectors");
        AssertOneErrorLine(1, CliRunner.Run(Args(Tsv("long.tsv", 801))), "801 rows of field values for 800 base vectors");
    }

    [Fact]
    public void EvalPrintsOneJsonLinePerSweepPoint()
    {
        var (b, q) = WriteSmallSet();
        var r = CliRunner.Run("eval", "--base", b, "--query", q, "--compression", "sq8", "--index", "flat", "--k", "5", "--rerank", "20", "--min-time", "0", "--json");
        Assert.Equal(0, r.Code);
        var line = Assert.Single(r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        foreach (var key in new[] { "index", "compression", "param", "k", "recall_at_k", "qps", "threads", "p50_us", "p99_us", "build_seconds", "bytes_per_vector", "count", "dim" })
            Assert.True(root.TryGetProperty(key, out _), $"missing key {key}");
        Assert.Equal(800, root.GetProperty("count").GetInt32());
        Assert.True(root.GetProperty("recall_at_k").GetDouble() >= 0.95);
        Assert.Equal(16 + 4, root.GetProperty("bytes_per_vector").GetDouble(), 0);
    }

    /// <summary>
    /// <c>--sweep rerank=…</c> measures each re-rank depth on one build: every line names its depth, re-ranking
    /// costs the float32 vectors' bytes only when it happens, and a deeper re-rank of pq codes never loses recall.
    /// </summary>
    [Fact]
    public void ARerankSweepReportsEachDepthOnOneBuild()
    {
        var (b, q) = WriteSmallSet();
        var r = CliRunner.Run("eval", "--base", b, "--query", q, "--compression", "pq:4", "--index", "flat", "--k", "5", "--sweep", "rerank=1,50", "--min-time", "0", "--json");
        Assert.Equal(0, r.Code);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(2, lines.Length);
        Assert.Equal(["rerank=1", "rerank=50"], lines.Select(l => l.GetProperty("param").GetString()));
        Assert.Equal([1, 50], lines.Select(l => l.GetProperty("rerank").GetInt32()));
        Assert.All(lines, l => Assert.Equal(16 * 4, l.GetProperty("rerank_bytes_per_vector").GetDouble()));
        Assert.Equal(lines[0].GetProperty("build_seconds").GetDouble(), lines[1].GetProperty("build_seconds").GetDouble());
        Assert.True(lines[1].GetProperty("recall_at_k").GetDouble() > lines[0].GetProperty("recall_at_k").GetDouble());
        Assert.True(lines[1].GetProperty("recall_at_k").GetDouble() >= 0.95);
    }

    /// <summary><c>--target-recall</c> with <c>--sweep none</c> names the probe count and depth it chose and reaches the target.</summary>
    [Fact]
    public void ATargetRecallReportsTheChosenProbeCountAndDepth()
    {
        // Queries from the base's own distribution (the tuning samples stored vectors; the small set's queries come
        // from other clusters).
        var (b, _) = WriteSmallSet();
        var r = CliRunner.Run("eval", "--base", b, "--query", b, "--max-queries", "100", "--compression", "pq:4", "--index", "ivf:16", "--k", "5", "--target-recall", "0.95", "--min-time", "0", "--json");
        Assert.Equal(0, r.Code);
        var line = JsonDocument.Parse(r.Stdout.Trim()).RootElement;
        // A probe count below every list and a depth below the deepest: a tuned choice, not the fallback.
        Assert.InRange(int.Parse(line.GetProperty("param").GetString()!["nprobe=".Length..]), 1, 15);
        Assert.InRange(line.GetProperty("rerank").GetInt32(), 5, 499);
        Assert.True(line.GetProperty("recall_at_k").GetDouble() >= 0.9, $"recall {line.GetProperty("recall_at_k").GetDouble()}");
    }

    /// <summary>With <c>--tune-queries</c> the HNSW beam is tuned as well, on those queries, and the measured queries reach the target.</summary>
    [Fact]
    public void TuneQueriesChooseTheBeamAndDepth()
    {
        var data = SyntheticData.Clustered(1100, 16, seed: 1);
        var b = Path.Combine(_dir, "b.fvecs");
        var t = Path.Combine(_dir, "t.fvecs");
        var q = Path.Combine(_dir, "q.fvecs");
        VectorFiles.WriteFvecs(b, data.Slice(0, 1000));
        VectorFiles.WriteFvecs(t, data.Slice(1000, 50));
        VectorFiles.WriteFvecs(q, data.Slice(1050, 50));
        var r = CliRunner.Run("eval", "--base", b, "--query", q, "--tune-queries", t, "--compression", "pq:4x4", "--index", "hnsw:8", "--k", "5", "--target-recall", "0.9", "--min-time", "0", "--json");
        Assert.Equal(0, r.Code);
        var line = JsonDocument.Parse(r.Stdout.Trim()).RootElement;
        Assert.StartsWith("ef=", line.GetProperty("param").GetString());
        Assert.InRange(line.GetProperty("rerank").GetInt32(), 5, 499);
        Assert.True(line.GetProperty("recall_at_k").GetDouble() >= 0.85, $"recall {line.GetProperty("recall_at_k").GetDouble()}");
    }

    /// <summary><c>--batch</c> adds the batched search's QPS to each point; the batch finds what the single searches find.</summary>
    [Fact]
    public void BatchAddsBatchedThroughputToEachPoint()
    {
        var (b, q) = WriteSmallSet();
        var r = CliRunner.Run("eval", "--base", b, "--query", q, "--compression", "pq:4x4", "--index", "ivf:8", "--sweep", "nprobe=2,8",
            "--rerank", "20", "--threads", "2", "--batch", "--min-time", "0", "--json");
        Assert.Equal(0, r.Code);
        var lines = r.Stdout.Trim().Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(2, lines.Length);
        Assert.All(lines, l => Assert.True(l.GetProperty("batch_qps").GetDouble() > 0));
        var plain = CliRunner.Run("eval", "--base", b, "--query", q, "--compression", "none", "--min-time", "0", "--json");
        Assert.False(JsonDocument.Parse(plain.Stdout.Trim()).RootElement.TryGetProperty("batch_qps", out _));
    }

    [Fact]
    public void FilteredEvalReportsRecallAgainstFilteredTruth()
    {
        var (b, q) = WriteSmallSet();
        var r = CliRunner.Run("eval", "--base", b, "--query", q, "--compression", "none", "--filter-fraction", "0.1", "--min-time", "0", "--json");
        Assert.Equal(0, r.Code);
        using var doc = JsonDocument.Parse(r.Stdout.Trim());
        Assert.Equal(1.0, doc.RootElement.GetProperty("recall_at_k").GetDouble());
        Assert.Equal(0.1, doc.RootElement.GetProperty("filter_fraction").GetDouble());
    }

    [Fact]
    public void BadInputExitsWithOneErrorLine()
    {
        var (b, q) = WriteSmallSet();
        AssertOneErrorLine(1, CliRunner.Run("eval", "--base", b, "--query", q, "--k", "0"), "--k");
        AssertOneErrorLine(1, CliRunner.Run("eval", "--base", Path.Combine(_dir, "missing.fvecs"), "--query", q), "missing.fvecs");
        AssertOneErrorLine(1, CliRunner.Run("eval", "--base", b, "--query", q, "--compression", "zip"), "zip");
        AssertOneErrorLine(1, CliRunner.Run("eval", "--query", q), "--base");

        var truncated = Path.Combine(_dir, "trunc.fvecs");
        File.WriteAllBytes(truncated, File.ReadAllBytes(b)[..^5]);
        AssertOneErrorLine(1, CliRunner.Run("eval", "--base", truncated, "--query", q), "truncated");

        var nan = SyntheticData.Clustered(10, 16);
        nan[4][2] = float.NaN;
        var nanPath = Path.Combine(_dir, "nan.fvecs");
        VectorFiles.WriteFvecs(nanPath, nan);
        AssertOneErrorLine(1, CliRunner.Run("eval", "--base", nanPath, "--query", q), "row 4");

        var mixedQ = Path.Combine(_dir, "q8.fvecs");
        VectorFiles.WriteFvecs(mixedQ, SyntheticData.Clustered(5, 8));
        AssertOneErrorLine(1, CliRunner.Run("eval", "--base", b, "--query", mixedQ), "dimension");
    }

    [Fact]
    public void DemoRunsOnTheEmbeddedSample()
    {
        var r = CliRunner.Run("demo", "--json", "--min-time", "0");
        Assert.Equal(0, r.Code);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var baseline = lines.Single(l => l.GetProperty("compression").GetString() == "none");
        Assert.Equal(1.0, baseline.GetProperty("recall_at_k").GetDouble());
        var sq8 = lines.First(l => l.GetProperty("compression").GetString() == "sq8" && l.GetProperty("rerank").GetInt32() == 0);
        Assert.True(sq8.GetProperty("recall_at_k").GetDouble() >= 0.97);
        Assert.True(sq8.GetProperty("memory_ratio").GetDouble() >= 3.9);
    }
}

public class EvalSweepValidationTests
{
    [Theory]
    [InlineData("ivf:16", "ef=10")]
    [InlineData("hnsw:8", "nprobe=1,2")]
    [InlineData("flat", "ef=16")]
    [InlineData("flat", "rerank=0")]
    [InlineData("flat", "rerank=20,200000")]
    [InlineData("flat", "depth=4")]
    public void ASweepOverAKnobTheIndexLacksIsAUsageError(string index, string sweep)
    {
        var dir = TestData.TempDir();
        var b = Path.Combine(dir, "b.fvecs");
        VectorStore.IO.VectorFiles.WriteFvecs(b, VectorStore.Evaluation.SyntheticData.Clustered(300, 8, seed: 1));
        var r = CliRunner.Run("eval", "--base", b, "--query", b, "--index", index, "--sweep", sweep, "--min-time", "0");
        Assert.Equal(1, r.Code);
        Assert.StartsWith("error: --sweep", r.Stderr.Trim());
    }

    [Fact]
    public void TuneQueriesNeedATargetRecallAndTheBaseDimension()
    {
        var dir = TestData.TempDir();
        var b = Path.Combine(dir, "b.fvecs");
        var t = Path.Combine(dir, "t.fvecs");
        VectorStore.IO.VectorFiles.WriteFvecs(b, VectorStore.Evaluation.SyntheticData.Clustered(300, 8, seed: 1));
        VectorStore.IO.VectorFiles.WriteFvecs(t, VectorStore.Evaluation.SyntheticData.Clustered(20, 6, seed: 2));
        var r = CliRunner.Run("eval", "--base", b, "--query", b, "--compression", "sq8", "--tune-queries", b, "--min-time", "0");
        Assert.Equal(1, r.Code);
        Assert.StartsWith("error: --tune-queries tunes for --target-recall", r.Stderr.Trim());
        r = CliRunner.Run("eval", "--base", b, "--query", b, "--compression", "sq8", "--target-recall", "0.9", "--tune-queries", t, "--min-time", "0");
        Assert.Equal(1, r.Code);
        Assert.Contains("--tune-queries dimension 6 differs from base dimension 8", r.Stderr);
    }

    [Fact]
    public void ARerankSweepWithATargetRecallIsAUsageError()
    {
        var dir = TestData.TempDir();
        var b = Path.Combine(dir, "b.fvecs");
        VectorStore.IO.VectorFiles.WriteFvecs(b, VectorStore.Evaluation.SyntheticData.Clustered(300, 8, seed: 1));
        var r = CliRunner.Run("eval", "--base", b, "--query", b, "--compression", "sq8", "--sweep", "rerank=10,20", "--target-recall", "0.9", "--min-time", "0");
        Assert.Equal(1, r.Code);
        Assert.StartsWith("error: --sweep rerank", r.Stderr.Trim());
    }
}
