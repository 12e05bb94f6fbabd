using Xunit;

namespace VectorStore.Tests.Architecture;

/// <summary>
/// The README's in-process snippet is the one the packaged sample app runs (samples/hotels/ReadmeSnippet.cs, built by
/// .ci/package-smoke from the packed packages and run twice): a change to either that the other lacks fails here.
/// </summary>
public sealed class ReadmeSampleTests
{
    private static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "VectorStore.sln"))) return Path.Combine(dir.FullName, relative);
        throw new FileNotFoundException($"no VectorStore.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>Code lines with whitespace collapsed and the trailing comment dropped.</summary>
    private static string Normalize(string line)
    {
        int comment = line.IndexOf("//", StringComparison.Ordinal);
        if (comment >= 0) line = line[..comment];
        return string.Join(' ', line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void TheSampleRunsTheReadmesSnippetLineForLine()
    {
        var readme = File.ReadAllLines(RepoFile("README.md"));
        int start = Array.FindIndex(readme, l => l.Trim() == "```csharp");
        Assert.True(start >= 0, "README.md has no ```csharp block");
        int end = Array.FindIndex(readme, start + 1, l => l.Trim() == "```");
        // The namespace imports are the sample file's own.
        var snippet = readme[(start + 1)..end].Where(l => !System.Text.RegularExpressions.Regex.IsMatch(l, @"^using [\w.]+;\s*$"))
            .Select(Normalize).Where(l => l.Length > 0).ToList();

        var sample = File.ReadAllLines(RepoFile("samples/hotels/ReadmeSnippet.cs"));
        int from = Array.FindIndex(sample, l => l.Contains("--- the README's snippet", StringComparison.Ordinal));
        int to = Array.FindIndex(sample, l => l.Contains("--- end of the snippet", StringComparison.Ordinal));
        Assert.True(from >= 0 && to > from, "ReadmeSnippet.cs lost its snippet markers");
        var ran = sample[(from + 1)..to].Select(Normalize).Where(l => l.Length > 0).ToList();
        // The one permitted difference: the sample opens the directory it is given.
        ran = ran.Select(l => l.Replace("VectorDatabase.Open(directory)", "VectorDatabase.Open(\"/var/lib/myapp/vectors\")", StringComparison.Ordinal)).ToList();
        Assert.Equal(snippet, ran);
    }
}
