namespace VectorStore.Cluster.Shards;

/// <summary>Status of a write plus what the coordinator needs next.</summary>
/// <param name="Status">What happened.</param>
/// <param name="Count">Live vectors in the shard after the write (drives automatic training).</param>
/// <param name="Deleted">How many of the batch's deletes removed something.</param>
/// <param name="Detail">Why, when not <see cref="WriteStatus.Ok"/>.</param>
/// <param name="Removed">At the primary, per delete of the batch, whether it removed something (null otherwise).</param>
[GenerateSerializer, Immutable]
internal sealed record WriteOutcome([property: Id(0)] WriteStatus Status, [property: Id(1)] int Count, [property: Id(2)] int Deleted, [property: Id(3)] string? Detail,
    [property: Id(4)] bool[]? Removed = null)
{
    public static WriteOutcome Stale(string why) => new(WriteStatus.Stale, 0, 0, why);
}
