namespace VectorStore.Cluster.Shards;

/// <summary>One copy's engine statistics, as they cross a grain call (the engine's record carries no Orleans codec).</summary>
[GenerateSerializer, Immutable]
internal sealed class ShardStats
{
    [Id(0)] public int Count { get; init; }
    [Id(1)] public bool Trained { get; init; }
    [Id(2)] public int CodeSize { get; init; }
    [Id(3)] public long IndexBytes { get; init; }
    [Id(4)] public long RerankBytes { get; init; }
    [Id(5)] public long ResidentBytes { get; init; }
    [Id(6)] public long DiskBytes { get; init; }
    [Id(7)] public string Compression { get; init; } = "";
    [Id(8)] public string Index { get; init; } = "";
    [Id(9)] public int RawVectors { get; init; }
}
