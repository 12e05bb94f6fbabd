namespace VectorStore.Indexing.Ivf;

/// <summary>What triggers rebalancing of an <see cref="IvfIndex"/> and what it does. Defaults are documented per property.</summary>
public sealed record IvfRebalanceOptions
{
    /// <summary>
    /// Rebalance when the imbalance factor exceeds the baseline by this fraction (0.25 → 25 % more work per probe than
    /// right after training). Default 0.25.
    /// </summary>
    public double ImbalanceTolerance { get; init; } = 0.25;

    /// <summary>Rebalance when spare list capacity exceeds this fraction of the bytes of live entries. Default 0.5.</summary>
    public double SpareTolerance { get; init; } = 0.5;

    /// <summary>Below this many entries per list on average, never trigger (the statistics are noise). Default 8.</summary>
    public int MinMeanListSize { get; init; } = 8;

    /// <summary>A list more than this many times the mean size is split in two (2-means on its vectors). Default 3.</summary>
    public double SplitFactor { get; init; } = 3.0;

    /// <summary>A list smaller than this fraction of the mean is dissolved into its neighbours. Default 0.2.</summary>
    public double MergeFactor { get; init; } = 0.2;

    /// <summary>Most vectors used to retrain centroids (k-means). Default 256 per list, as FAISS caps it.</summary>
    public int TrainingVectorsPerList { get; init; } = 256;

    /// <summary>k-means iterations when retraining. Default 12.</summary>
    public int Iterations { get; init; } = 12;

    /// <summary>Seed of retraining. Default 42.</summary>
    public int Seed { get; init; } = 42;
}
