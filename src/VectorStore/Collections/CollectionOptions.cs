using VectorStore.Indexing;
using VectorStore.Quantization;

namespace VectorStore.Collections;

/// <summary>The fixed settings of a collection, chosen at creation. Defaults are documented per property.</summary>
public sealed record CollectionOptions
{
    /// <summary>Values per vector. Required.</summary>
    public required int Dimension { get; init; }

    /// <summary>Similarity metric. Default <see cref="Metric.Cosine"/>.</summary>
    public Metric Metric { get; init; } = Metric.Cosine;

    /// <summary>Compression spec (<c>none</c>, <c>sq8</c>, <c>pq:48</c>, <c>pca:128+sq8</c>, …). Default <c>sq8</c>.</summary>
    public string Compression { get; init; } = "sq8";

    /// <summary>Index spec (<c>flat</c>, <c>ivf:256</c>, <c>hnsw:16</c>). Default <c>flat</c>.</summary>
    public string Index { get; init; } = "flat";

    /// <summary>
    /// Vectors collected before the codec and index are trained. Until then searches are exact scans over the
    /// full-precision vectors, so results are always correct. Default 10,000; <see cref="Collection.BuildIndex"/>
    /// trains earlier on demand.
    /// </summary>
    public int TrainingThreshold { get; init; } = 10_000;

    /// <summary>Most vectors drawn (uniformly, seeded) for training. Default 100,000.</summary>
    public int MaxTrainingSample { get; init; } = 100_000;

    /// <summary>Seed of every random choice in training and index construction. Default 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Validates the options and returns the parsed specs; throws <see cref="InvalidArgumentException"/>.</summary>
    public (CompressionSpec Compression, IndexSpec Index) Validate()
    {
        if (Dimension is <= 0 or > 65_536) throw new InvalidArgumentException($"dimension must be in 1..65536, got {Dimension}");
        if (TrainingThreshold <= 0) throw new InvalidArgumentException("training threshold must be positive");
        if (MaxTrainingSample <= 0) throw new InvalidArgumentException($"max training sample must be positive, got {MaxTrainingSample}");
        var c = CompressionSpec.Parse(Compression);
        CodecRegistry.Validate(c, Dimension);
        var i = IndexSpec.Parse(Index);
        IndexRegistry.Get(i).Validate(i);
        return (c, i);
    }
}

/// <summary>Options of one search. Defaults are documented per property.</summary>
public sealed record SearchOptions
{
    /// <summary>How many results. Default 10; must be in 1..<see cref="MaxK"/>.</summary>
    public int K { get; init; } = 10;

    /// <summary>
    /// Re-score this many best candidates with the full-precision vectors (0 = return the codec's estimates).
    /// Default 0.
    /// </summary>
    public int Rerank { get; init; }

    /// <summary>
    /// Automatic re-ranking: when &gt; 0 and <see cref="Rerank"/> is 0, the depth is chosen to reach this recall@k on a
    /// held-out sample of the collection's own data (<see cref="Collection.TuneRerank"/>, measured once per target
    /// and k, again after the index is retrained). Default 0 (off).
    /// </summary>
    public double TargetRecall { get; init; }

    /// <summary>HNSW beam width; 0 = index default.</summary>
    public int Ef { get; init; }

    /// <summary>IVF lists to probe; 0 = index default.</summary>
    public int NProbe { get; init; }

    /// <summary>Restricts results; null = no filter.</summary>
    public SearchFilter? Filter { get; init; }

    /// <summary>Largest k (and rerank depth) accepted: protects the process from a request for 10⁹ results.</summary>
    public const int MaxK = 100_000;
}

/// <summary>A search restriction: an id set, a predicate over id and payload, or both (both must pass).</summary>
public sealed class SearchFilter
{
    /// <summary>Only these ids may be returned.</summary>
    public IReadOnlySet<ulong>? Ids { get; init; }

    /// <summary>Only entries for which this returns true may be returned. Called once per live entry per search.</summary>
    public Func<ulong, ReadOnlyMemory<byte>, bool>? Predicate { get; init; }
}

/// <summary>One search result.</summary>
/// <param name="Id">The vector's id.</param>
/// <param name="Score">Squared L2 distance (lower is better) or inner-product / cosine similarity (higher is better).</param>
public readonly record struct SearchHit(ulong Id, float Score);

/// <summary>A stored vector with its payload.</summary>
/// <param name="Id">The id.</param>
/// <param name="Vector">The full-precision vector as stored (unit length for cosine collections).</param>
/// <param name="Payload">The payload (empty when none was given).</param>
public sealed record VectorRecord(ulong Id, float[] Vector, byte[] Payload);

/// <summary>Sizes and state of a collection.</summary>
public sealed record CollectionStats
{
    /// <summary>Live vectors.</summary>
    public int Count { get; init; }

    /// <summary>Dimension.</summary>
    public int Dimension { get; init; }

    /// <summary>Whether the codec and index have been trained.</summary>
    public bool Trained { get; init; }

    /// <summary>Bytes per code.</summary>
    public int CodeSize { get; init; }

    /// <summary>Resident bytes of codes and index structures.</summary>
    public long IndexBytes { get; init; }

    /// <summary>Bytes of full-precision vectors kept for re-ranking.</summary>
    public long RerankBytes { get; init; }

    /// <summary>The trained codec's spec, or the configured one when untrained.</summary>
    public string Compression { get; init; } = "";

    /// <summary>The index spec.</summary>
    public string Index { get; init; } = "";
}
