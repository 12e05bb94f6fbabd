namespace VectorStore.Clustering;

/// <summary>Settings of <see cref="KMeans.Train"/>, with their defaults. Immutable, so thread-safe.</summary>
public sealed record KMeansOptions
{
    /// <summary>Most Lloyd iterations. Training stops earlier when no point changes cluster. Default 25.</summary>
    public int Iterations { get; init; } = 25;

    /// <summary>
    /// Below this many training points per centroid a warning is sent to <see cref="TrainingContext.Warn"/>:
    /// centroids trained on fewer points over-fit the sample. Default 39 (the rule of thumb Faiss uses).
    /// </summary>
    public int MinPointsPerCentroid { get; init; } = 39;

    /// <summary>
    /// Above this many points per centroid the input is subsampled (seeded): more points barely move the centroids and
    /// cost linear time. Default 256. 0 = never subsample.
    /// </summary>
    public int MaxPointsPerCentroid { get; init; } = 256;

    /// <summary>
    /// Starting centroids (k rows) instead of k-means++ seeding: a warm start when training is repeated (OPQ).
    /// Default null.
    /// </summary>
    public VectorMatrix? InitialCentroids { get; init; }

    /// <summary>
    /// Most points the k-means++ seeding looks at (a seeded subsample when the input is larger). Seeding costs
    /// k passes over its points, so this bounds it to roughly one Lloyd iteration. Default 20·k, at least 4,096.
    /// </summary>
    public int? SeedingSampleSize { get; init; }

    /// <summary>Name reported with progress and warnings. Default <c>k-means</c>.</summary>
    public string Stage { get; init; } = "k-means";
}
