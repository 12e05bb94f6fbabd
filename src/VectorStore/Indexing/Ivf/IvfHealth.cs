namespace VectorStore.Indexing.Ivf;

/// <summary>List-size statistics of an <see cref="IvfIndex"/>: how far updates have pushed it from a balanced build.</summary>
/// <param name="Lists">Number of lists.</param>
/// <param name="Count">Live entries.</param>
/// <param name="MinListSize">Smallest list.</param>
/// <param name="MaxListSize">Largest list.</param>
/// <param name="MeanListSize">Count / Lists.</param>
/// <param name="StdDevListSize">Standard deviation of list sizes.</param>
/// <param name="EmptyLists">Lists with no entry.</param>
/// <param name="ImbalanceFactor">
/// NLIST·Σ size² / Count² (FAISS's measure): 1 when every list is equal; the expected cost of a probe relative to a
/// balanced index.
/// </param>
/// <param name="BaselineImbalance">The imbalance factor when the centroids were last trained.</param>
/// <param name="CodeBytes">Bytes of codes and slots of live entries.</param>
/// <param name="SpareBytes">Bytes of list capacity not holding an entry (reclaimed by rebalancing).</param>
/// <param name="NeedsRebalance">Whether the rebalancing threshold is crossed.</param>
public sealed record IvfHealth(
    int Lists,
    int Count,
    int MinListSize,
    int MaxListSize,
    double MeanListSize,
    double StdDevListSize,
    int EmptyLists,
    double ImbalanceFactor,
    double BaselineImbalance,
    long CodeBytes,
    long SpareBytes,
    bool NeedsRebalance);
