using VectorStore.IO;

namespace VectorStore.Evaluation;

/// <summary>A TEXMEX-style dataset: base vectors, queries and exact top-100 ground truth.</summary>
/// <param name="Name">Dataset name.</param>
/// <param name="Base">Base vectors.</param>
/// <param name="Queries">Query vectors.</param>
/// <param name="Truth">Per query, base row indices nearest first.</param>
public sealed record Dataset(string Name, VectorMatrix Base, VectorMatrix Queries, int[][] Truth)
{
    /// <summary>Loads <c>DIR/NAME_base.fvecs</c>, <c>_query.fvecs</c> and <c>_groundtruth.ivecs</c>, where NAME is the folder name.</summary>
    public static Dataset LoadTexmex(string directory, int maxBase = int.MaxValue, int maxQueries = int.MaxValue)
    {
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(directory));
        string prefix = Path.Combine(directory, name);
        var b = VectorFiles.ReadVectors(prefix + "_base.fvecs", maxRows: maxBase);
        var q = VectorFiles.ReadVectors(prefix + "_query.fvecs", maxRows: maxQueries);
        var gt = VectorFiles.ReadIvecs(prefix + "_groundtruth.ivecs", maxQueries);
        return new Dataset(name, b, q, gt);
    }

    /// <summary>
    /// Finds <c>../shared/data/NAME</c> by walking up from the current directory and the app base directory; null when
    /// absent (tests then skip or fall back to synthetic data).
    /// </summary>
    public static string? FindShared(string name)
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            var dir = new DirectoryInfo(start);
            while (dir is not null)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "data", name);
                if (File.Exists(Path.Combine(candidate, name + "_base.fvecs"))) return candidate;
                dir = dir.Parent;
            }
        }
        return null;
    }
}
