namespace VectorStore.Cluster.Layout;

/// <summary>
/// One replica to create: copy shard <paramref name="Shard"/> to <paramref name="Target"/>, then (for a move) retire
/// <paramref name="Source"/>'s copy.
/// </summary>
internal sealed record RepairStep(int Shard, string Target, string? Source);
