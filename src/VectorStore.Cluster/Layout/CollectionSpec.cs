using VectorStore.Collections;
using VectorStore.Filtering;
using VectorStore.Indexing;
using VectorStore.Quantization;

namespace VectorStore.Cluster.Layout;

/// <summary>
/// The <see cref="CollectionOptions"/> of a distributed collection in a form Orleans and the metadata store can carry.
/// Immutable once the collection exists.
/// </summary>
[GenerateSerializer, Immutable]
public sealed class CollectionSpec
{
    /// <summary>Values per vector.</summary>
    [Id(0)] public int Dimension { get; init; }

    /// <summary>The user's metric.</summary>
    [Id(1)] public Metric Metric { get; init; }

    /// <summary>Compression spec, applied to every shard with the same trained codec.</summary>
    [Id(2)] public string Compression { get; init; } = "";

    /// <summary>Index spec of every shard.</summary>
    [Id(3)] public string Index { get; init; } = "";

    /// <summary>Live vectors in the whole collection before the cluster trains every shard's codec together.</summary>
    [Id(4)] public int TrainingThreshold { get; init; }

    /// <summary>Most vectors in the shared training sample.</summary>
    [Id(5)] public int MaxTrainingSample { get; init; }

    /// <summary>Seed of training and of the sample drawn for it.</summary>
    [Id(6)] public int Seed { get; init; }

    /// <summary>Where each shard keeps its full-precision vectors (null: the engine's default). Absent in older layout files.</summary>
    [Id(7)] public RawVectorResidency? RawVectors { get; init; }

    /// <summary>Declared fields as <c>name:type</c> (<see cref="FieldDefinition.ToString"/>); null or absent (older layout files): none.</summary>
    [Id(8)] public string[]? Fields { get; init; }

    /// <summary>The declared fields, parsed; empty when none.</summary>
    public IReadOnlyList<FieldDefinition> FieldDefinitions => Fields is null ? [] : Array.ConvertAll(Fields, FieldDefinition.Parse);

    /// <summary>
    /// Whether each copy of each shard can train by itself, on its own vectors, in place: the codec has no trained
    /// parameters (<c>none</c>) and the index is flat, so scores are exact and comparable across shards without a
    /// shared sample, and no copy stages one or rebuilds its data into a second collection (which cost a whole
    /// collection's memory per shard, twice: the sample's and the replaced one's). Building in place holds the copy's
    /// write lock while its codes are copied (searches wait that long, well under a second per million vectors of 384
    /// dimensions); an HNSW graph would hold it for minutes, so HNSW keeps the rebuild beside the serving collection.
    /// </summary>
    internal bool TrainsInPlace =>
        CompressionSpec.Parse(Compression) is { Stages.Count: 1 } c && c.Quantizer.Name == "none" && IndexSpec.Parse(Index).Name == "flat";

    /// <summary>Captures <paramref name="options"/>.</summary>
    public static CollectionSpec From(CollectionOptions options) => new()
    {
        Dimension = options.Dimension,
        Metric = options.Metric,
        Compression = options.Compression,
        Index = options.Index,
        TrainingThreshold = options.TrainingThreshold,
        MaxTrainingSample = options.MaxTrainingSample,
        Seed = options.Seed,
        RawVectors = options.RawVectors,
        Fields = options.Fields is { Count: > 0 } f ? f.Select(d => d.ToString()).ToArray() : null,
    };

    /// <summary>The options as the user gave them.</summary>
    public CollectionOptions ToOptions() => new()
    {
        Dimension = Dimension,
        Metric = Metric,
        Compression = Compression,
        Index = Index,
        TrainingThreshold = TrainingThreshold,
        MaxTrainingSample = MaxTrainingSample,
        Seed = Seed,
        RawVectors = RawVectors,
        Fields = Fields is null ? null : FieldDefinitions,
    };

    /// <summary>
    /// The options of each shard's embedded collection. Cosine becomes inner product because the coordinator
    /// normalizes vectors and queries once, with the engine's own <c>Distances.Normalize</c>: a shard then stores
    /// exactly the bytes it was sent, so copies to new replicas are bit-identical (re-normalizing an already unit
    /// vector can move its last bit), and scores are the engine's cosine scores. A shard never trains by itself:
    /// the cluster trains every shard on one shared sample (see docs/cluster.md).
    /// </summary>
    public CollectionOptions ShardOptions() => new()
    {
        Dimension = Dimension,
        Metric = Metric == Metric.Cosine ? Metric.InnerProduct : Metric,
        Compression = Compression,
        Index = Index,
        TrainingThreshold = int.MaxValue,
        MaxTrainingSample = MaxTrainingSample,
        Seed = Seed,
        RawVectors = RawVectors,
        Fields = Fields is null ? null : FieldDefinitions,
    };
}
