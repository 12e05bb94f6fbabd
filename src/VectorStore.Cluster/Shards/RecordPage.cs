namespace VectorStore.Cluster.Shards;

/// <summary>Stored records moving between silos: copies to new replicas, training samples, reads.</summary>
[GenerateSerializer, Immutable]
internal sealed class RecordPage
{
    [Id(0)] public ulong[] Ids { get; init; } = [];
    [Id(1)] public float[] Vectors { get; init; } = [];
    [Id(2)] public byte[][] Payloads { get; init; } = [];

    /// <summary>Each record's field values in the engine's stored form (<see cref="FieldSets"/>), or null for none.</summary>
    [Id(3)] public byte[]?[]? Fields { get; init; }

    public int Count => Ids.Length;
}
