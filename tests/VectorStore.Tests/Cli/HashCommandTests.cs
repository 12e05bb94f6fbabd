using VectorStore.IO;
using VectorStore.Quantization;
using VectorStore.Tests.Cli;
using Xunit;

namespace VectorStore.Tests.Cli;

/// <summary><c>vectorstore hash</c>: sparse lines in, dense .fvecs out, identical to the API's hasher; bad input is exit 1.</summary>
public class HashCommandTests
{
    [Fact]
    public void HashesLinesLikeTheApiAndKeepsHeavyFeaturesExact()
    {
        string dir = TestData.TempDir();
        string input = Path.Combine(dir, "sparse.txt");
        File.WriteAllLines(input, ["apple:2 pear:1.5 color=red", "apple:1 plum", "pear:3 kiwi:0.5"]);
        var (code, _, err) = CliRunner.Run("hash", "--input", input, "--dim", "16", "--seed", "7", "--heavy", "2",
            "--heavy-out", Path.Combine(dir, "heavy.txt"), "--out", Path.Combine(dir, "out.fvecs"));
        Assert.True(code == 0, err);
        var m = VectorFiles.ReadFvecs(Path.Combine(dir, "out.fvecs"));
        Assert.Equal(3, m.Count);
        Assert.Equal(16, m.Dimension);
        // pear (4.5) and apple (3) carry the most weight, in that order.
        Assert.Equal(["pear", "apple"], File.ReadAllLines(Path.Combine(dir, "heavy.txt")));
        var hasher = new FeatureHasher(16, 7, ["pear", "apple"]);
        Assert.Equal(hasher.Transform(SparseFeature.ParseLine("apple:2 pear:1.5 color=red")), m.Row(0).ToArray());
        Assert.Equal(1.5f, m.Row(0)[0]);
        Assert.Equal(2f, m.Row(0)[1]);
    }

    [Fact]
    public void NonFiniteWeightIsExitOneNamingTheLine()
    {
        string dir = TestData.TempDir();
        string input = Path.Combine(dir, "bad.txt");
        File.WriteAllLines(input, ["a:1", "b:NaN"]);
        var (code, _, err) = CliRunner.Run("hash", "--input", input, "--dim", "8", "--out", Path.Combine(dir, "o.fvecs"));
        Assert.Equal(1, code);
        Assert.StartsWith("error:", err.Trim());
        Assert.Contains("bad.txt:2", err);
    }
}
