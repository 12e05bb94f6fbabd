using VectorStore.IO;
using Xunit;

namespace VectorStore.Cluster.Tests;

/// <summary>The shared text set (skip with a message when absent) and seeded synthetic data.</summary>
public static class ClusterTestData
{
    public const string TextSet = "debdesc-minilm384-public";

    private static readonly Dictionary<string, (VectorMatrix Base, VectorMatrix Queries)> s_cache = [];

    /// <summary>The first <paramref name="maxBase"/> base vectors and <paramref name="maxQueries"/> queries of the text set.</summary>
    public static (VectorMatrix Base, VectorMatrix Queries) RequireTextSet(int maxBase, int maxQueries)
    {
        var dir = FindShared(TextSet);
        Skip.If(dir is null, $"../shared/data/{TextSet} is not present; this test needs the real dataset");
        lock (s_cache)
        {
            string key = $"{maxBase}/{maxQueries}";
            if (!s_cache.TryGetValue(key, out var data))
            {
                data = (VectorFiles.ReadFvecs(Path.Combine(dir!, TextSet + "_base.fvecs"), maxBase),
                        VectorFiles.ReadFvecs(Path.Combine(dir!, TextSet + "_query.fvecs"), maxQueries));
                s_cache[key] = data;
            }
            return data;
        }
    }

    private static string? FindShared(string name)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "data", name);
                if (File.Exists(Path.Combine(candidate, name + "_base.fvecs"))) return candidate;
            }
        }
        return null;
    }

    /// <summary>Seeded Gaussian vectors.</summary>
    public static VectorMatrix Random(int count, int dimension, int seed)
    {
        var rng = new Random(seed);
        var m = new VectorMatrix(count, dimension);
        for (int i = 0; i < m.Data.Length; i++)
            m.Data[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return m;
    }

    public static ulong[] Ids(int count, ulong first = 1) => Enumerable.Range(0, count).Select(i => first + (ulong)i).ToArray();
}
