using VectorStore.Fuzz;
using Xunit;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// Replays every input the fuzzer ever kept as a regression (Protocol/FuzzRegressions/*.bin) and runs a short,
/// fixed-seed fuzzing burst (not coverage-guided here: the test build is not instrumented) through the same target
/// the fuzz harness uses. Any exception other than a typed VectorStore refusal fails the test.
/// </summary>
public class FuzzRegressionTests
{
    public static TheoryData<string> Regressions()
    {
        var data = new TheoryData<string>();
        var dir = Path.Combine(AppContext.BaseDirectory, "Protocol", "FuzzRegressions");
        foreach (var f in Directory.Exists(dir) ? Directory.GetFiles(dir, "*.bin").Order(StringComparer.Ordinal).ToArray() : []) data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Regressions))]
    public void RegressionInputDoesNotCrash(string file)
    {
        var input = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Protocol", "FuzzRegressions", file));
        Assert.NotNull(FuzzTarget.Run(input));
    }

    [Fact]
    public void SeedCorpusDecodesAndExecutesCleanly()
    {
        foreach (var seed in SeedCorpus.Create())
        {
            var outcome = FuzzTarget.Run(seed);
            // Every seed is a valid frame: the server side must accept it or refuse it with a typed error, never "I" (incomplete).
            Assert.DoesNotContain("H:", outcome);
            Assert.DoesNotContain("I;", outcome);
        }
    }

    [Fact]
    public void ShortFuzzBurstFindsNoCrash()
    {
        var fuzzer = new MutationalFuzzer(seed: 20261127, crashDir: null);
        foreach (var s in SeedCorpus.Create()) fuzzer.Add(s);
        fuzzer.Run(TimeSpan.FromSeconds(20), maxExecutions: 4000, progress: null);
        Assert.Equal(0, fuzzer.Crashes);
        Assert.True(fuzzer.Executions > 500, $"only {fuzzer.Executions} executions ran");
    }
}
