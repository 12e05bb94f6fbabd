using System.CommandLine;
using System.Text.Json;
using VectorStore.Cli;
using VectorStore.Cli.Commands;
using VectorStore.Evaluation;
using VectorStore.IO;
using Xunit;

namespace VectorStore.Tests.Cli;

/// <summary>The flags eval, report and demo share: one declaration, each command's own defaults, both spellings of the time flag.</summary>
public sealed class EvalOptionSetTests
{
    private static (EvalOptionSet Set, Command Command) Declare(string metric, int threads)
    {
        var cmd = new Command("x");
        return (new EvalOptionSet(metric, threads, "Search threads").AddData(cmd).AddSearch(cmd).AddMeasurement(cmd), cmd);
    }

    [Fact]
    public void DefaultsAreTheCommandsOwnAndBothTimeSpellingsWork()
    {
        var (eval, evalCmd) = Declare("l2", 1);
        var s = eval.Settings(evalCmd.Parse(["--base", "b", "--query", "q"]));
        Assert.Equal((Metric.L2, 1, 0, 1.0, 42, "flat", 10, 0), (s.Metric, s.Threads, s.Database.Threads, s.MinSeconds, s.Seed, s.Index, s.K, s.Rerank));

        var (report, reportCmd) = Declare("cosine", 0);
        var t = report.Settings(reportCmd.Parse(["--base", "b", "--query", "q", "--min-seconds", "0.25", "--build-threads", "2", "--k", "5"]));
        Assert.Equal((Metric.Cosine, 0, 2, 0.25, 5), (t.Metric, t.Threads, t.Database.Threads, t.MinSeconds, t.K));
        Assert.Equal(0.5, report.Settings(reportCmd.Parse(["--base", "b", "--query", "q", "--min-time", "0.5"])).MinSeconds);
    }

    [Theory]
    [InlineData("--threads", "-1", "--threads")]
    [InlineData("--min-time", "-2", "--min-time")]
    [InlineData("--min-seconds", "4000", "--min-time")]
    [InlineData("--k", "101", "--k")]
    [InlineData("--index", "nosuch", "nosuch")]
    public void BadValuesAreUsageErrors(string flag, string value, string mention)
    {
        var (set, cmd) = Declare("l2", 1);
        var e = Assert.ThrowsAny<Exception>(() => set.Settings(cmd.Parse(["--base", "b", "--query", "q", flag, value]), maxK: 100));
        Assert.Equal(1, CliCommand.Classify(e).Code);
        Assert.Contains(mention, e.Message);
    }

    [Fact]
    public void EvalAndReportAcceptEachOthersTimeFlag()
    {
        string dir = TestData.TempDir(), b = Path.Combine(dir, "b.fvecs"), q = Path.Combine(dir, "q.fvecs");
        var data = SyntheticData.Clustered(330, 8, seed: 2);
        VectorFiles.WriteFvecs(b, data.Slice(0, 300));
        VectorFiles.WriteFvecs(q, data.Slice(300, 30));
        var e = CliRunner.Run("eval", "--base", b, "--query", q, "--min-seconds", "0", "--threads", "0", "--json");
        Assert.True(e.Code == 0, e.Stderr);
        var row = JsonDocument.Parse(e.Stdout).RootElement;
        Assert.Equal(Environment.ProcessorCount, row.GetProperty("threads").GetInt32());
        Assert.Equal("l2", row.GetProperty("metric").GetString());
        Assert.Equal(1.0, row.GetProperty("recall_at_k").GetDouble());

        string o = Path.Combine(dir, "out");
        Assert.Equal(0, CliCommand.Run(CliCommand.BuildRoot(), ["report", "--base", b, "--query", q, "--variants", "none", "--min-time", "0", "--out", o]));
        var report = JsonDocument.Parse(File.ReadAllLines(Path.Combine(o, "report.json")).Single()).RootElement;
        Assert.Equal("cosine", report.GetProperty("metric").GetString());
        Assert.Equal(Environment.ProcessorCount, report.GetProperty("all_threads").GetInt32());
    }
}
