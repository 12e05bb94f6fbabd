using VectorStore.Evaluation;
using Xunit;

namespace VectorStore.Tests;

/// <summary>Shared datasets for tests: real ones when <c>../shared/data</c> exists, else a skip with the reason.</summary>
public static class TestData
{
    public const string TextSet = "debdesc-minilm384-public";
    public const string Sift = "sift10k";

    private static readonly Dictionary<string, Dataset> s_cache = [];

    /// <summary>The shared dataset, or a skip naming what is missing. Cached per process.</summary>
    public static Dataset RequireShared(string name, int maxBase = int.MaxValue, int maxQueries = int.MaxValue)
    {
        var dir = Dataset.FindShared(name);
        Skip.If(dir is null, $"../shared/data/{name} is not present; this test needs the real dataset");
        lock (s_cache)
        {
            string key = $"{name}/{maxBase}/{maxQueries}";
            if (!s_cache.TryGetValue(key, out var ds)) s_cache[key] = ds = Dataset.LoadTexmex(dir!, maxBase, maxQueries);
            return ds;
        }
    }

    /// <summary>A fresh temporary directory removed by the caller (or left for the OS to clean).</summary>
    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "vectorstore-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(d);
        return d;
    }
}
