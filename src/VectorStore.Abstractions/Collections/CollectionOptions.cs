using VectorStore.Filtering;

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
    /// A second, finer code kept in RAM for the candidates the index returns (<c>rq:B</c>, B = 1..8, or <c>sq8</c>): with
    /// <see cref="SearchOptions.Rerank"/> = N the index's N best are re-scored with it, and its per-candidate error
    /// bound decides which few still need a full-precision read (none when the bounds already separate the top k from
    /// the rest). Default null (no second stage: the N candidates are all read at full precision). Trained with the index.
    /// </summary>
    public string? Refine { get; init; }

    /// <summary>
    /// Vectors collected before the codec and index are trained. Until then searches are exact scans over the
    /// full-precision vectors, so results are always correct. Default 10,000; <c>Collection.BuildIndex</c>
    /// trains earlier on demand.
    /// </summary>
    public int TrainingThreshold { get; init; } = 10_000;

    /// <summary>Most vectors drawn (uniformly, seeded) for training. Default 100,000.</summary>
    public int MaxTrainingSample { get; init; } = 100_000;

    /// <summary>Seed of every random choice in training and index construction. Default 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>
    /// Where the full-precision vectors live. Default null: <see cref="RawVectorResidency.Disk"/> in a database
    /// directory, <see cref="RawVectorResidency.Ram"/> in memory (where <c>Disk</c> is refused). A created collection
    /// reports the resolved value.
    /// </summary>
    public RawVectorResidency? RawVectors { get; init; }

    /// <summary>
    /// Declared metadata fields (<see cref="FieldDefinition"/>): records may carry a value for each, filters
    /// (<see cref="SearchFilter.Where"/>) test them through in-memory indexes. Default none; fixed at creation.
    /// </summary>
    public IReadOnlyList<FieldDefinition>? Fields { get; init; }

    /// <summary>The largest <see cref="Dimension"/> a collection may have.</summary>
    public const int MaxDimension = 65_536;

    /// <summary>
    /// Checks the plain fields (dimension, training sizes); throws <see cref="InvalidArgumentException"/>. The engine
    /// also checks the compression and index specs against its registries when a collection is created.
    /// </summary>
    public void ValidateShape()
    {
        if (Dimension is <= 0 or > MaxDimension) throw new InvalidArgumentException($"dimension must be in 1..{MaxDimension}, got {Dimension}");
        if (TrainingThreshold <= 0) throw new InvalidArgumentException("training threshold must be positive");
        if (MaxTrainingSample <= 0) throw new InvalidArgumentException($"max training sample must be positive, got {MaxTrainingSample}");
        if (RawVectors is { } r && r is not (RawVectorResidency.Disk or RawVectorResidency.Ram))
            throw new InvalidArgumentException($"raw vectors must be disk or ram, got {(int)r}");
        FieldDefinition.ValidateAll(Fields);
    }

    /// <summary>
    /// Null when a collection created with <paramref name="existing"/> serves a request for these options (a null
    /// <see cref="RawVectors"/> matches either residency); otherwise the first difference, for an error message.
    /// Get-or-create uses it so data meant for one dimension or metric never goes to another.
    /// </summary>
    public string? DifferenceFrom(CollectionOptions existing) => DifferenceFrom(existing, liveGeneration: 1);

    /// <summary>
    /// As <see cref="DifferenceFrom(CollectionOptions)"/>, for a collection whose live compression generation is
    /// <paramref name="liveGeneration"/> (<see cref="CollectionStats.Generation"/>). Once the compression lifecycle
    /// has made another generation than the first live (a promotion), the collection's compression and index are the
    /// lifecycle's choice and these options' compression and index, what the collection was created with, are not
    /// compared: an application's start-up get-or-create keeps working after an operator promotes a new scheme. The
    /// dimension, metric, fields, residency, refine stage and training settings are compared all the same.
    /// </summary>
    public string? DifferenceFrom(CollectionOptions existing, int liveGeneration)
    {
        ArgumentNullException.ThrowIfNull(existing);
        if (existing.Dimension != Dimension) return $"dimension {existing.Dimension}, not {Dimension}";
        if (existing.Metric != Metric) return $"metric {existing.Metric}, not {Metric}";
        bool schemeIsTheLifecycles = liveGeneration != 1;
        if (!schemeIsTheLifecycles && existing.Compression != Compression) return $"compression '{existing.Compression}', not '{Compression}'";
        if (!schemeIsTheLifecycles && existing.Index != Index) return $"index '{existing.Index}', not '{Index}'";
        if (existing.Refine != Refine) return $"refine '{existing.Refine ?? "none"}', not '{Refine ?? "none"}'";
        // An unknown residency on either side (unset here, or reported by an older server) matches either.
        if (RawVectors is { } r && existing.RawVectors is { } have && have != r) return $"raw vectors {have}, not {r}";
        if (!(Fields ?? []).SequenceEqual(existing.Fields ?? []))
            return $"fields [{string.Join(", ", existing.Fields ?? [])}], not [{string.Join(", ", Fields ?? [])}]";
        if (existing.TrainingThreshold != TrainingThreshold || existing.MaxTrainingSample != MaxTrainingSample || existing.Seed != Seed)
            return $"training threshold/sample/seed {existing.TrainingThreshold}/{existing.MaxTrainingSample}/{existing.Seed}, not {TrainingThreshold}/{MaxTrainingSample}/{Seed}";
        return null;
    }
}
