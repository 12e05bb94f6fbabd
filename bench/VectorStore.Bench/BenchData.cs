using VectorStore;
using VectorStore.Evaluation;

namespace VectorStore.Bench;

/// <summary>The data the scan and training benchmarks share.</summary>
internal static class BenchData
{
    /// <summary>
    /// The shared text set's 50,000 base vectors when <c>../shared/data</c> is reachable from the working directory,
    /// else 50,000 clustered, normalized synthetic vectors of the same dimension, so every suite runs anywhere.
    /// </summary>
    public static VectorMatrix TextBaseOrSynthetic()
    {
        var dir = Dataset.FindShared("debdesc-minilm384-public");
        return dir is not null
            ? Dataset.LoadTexmex(dir, maxQueries: 1).Base
            : SyntheticData.Clustered(50_000, 384, seed: 1, normalize: true);
    }
}
