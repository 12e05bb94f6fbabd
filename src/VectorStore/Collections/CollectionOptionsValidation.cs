using VectorStore.Indexing;
using VectorStore.Quantization;

namespace VectorStore.Collections;

/// <summary>
/// The engine's half of <see cref="CollectionOptions"/> validation: the plain fields are checked by the options
/// themselves, the compression and index specs here, against the registries that will build them. Thread-safe.
/// </summary>
public static class CollectionOptionsValidation
{
    /// <summary>Validates the options and returns the parsed specs; throws <see cref="InvalidArgumentException"/>.</summary>
    public static (CompressionSpec Compression, IndexSpec Index) Validate(this CollectionOptions options)
    {
        options.ValidateShape();
        var c = CompressionSpec.Parse(options.Compression);
        CodecRegistry.Validate(c, options.Dimension);
        var i = IndexSpec.Parse(options.Index);
        IndexRegistry.Get(i).Validate(i);
        if (options.Refine is { } refine)
        {
            var r = CompressionSpec.Parse(refine);
            if (r.Stages.Count != 1 || r.Quantizer.Name is not ("rq" or "sq8"))
                throw new InvalidArgumentException($"refine '{refine}' must be a rotation code rq:B (B = 1..8) or sq8: the second stage needs its per-candidate error bound");
            CodecRegistry.Validate(r, options.Dimension);
        }
        return (c, i);
    }

    /// <summary>
    /// <see cref="Validate"/>, and for a collection about to be created: the sample it trains on by itself (the vectors
    /// up to the training threshold, at most <see cref="CollectionOptions.MaxTrainingSample"/>) must hold what the index
    /// needs. An <c>ivf:1024</c> trained on 50 vectors would otherwise become <c>ivf:50</c> for good. Not checked when
    /// a collection opens, so one created before the check still opens; nor for a collection that never trains by
    /// itself (threshold <see cref="int.MaxValue"/>: a cluster's shard copies, which the cluster trains on one shared
    /// sample, and whose copies of collections created before the check must still be created).
    /// </summary>
    public static (CompressionSpec Compression, IndexSpec Index) ValidateNew(this CollectionOptions options)
    {
        var specs = options.Validate();
        if (options.TrainingThreshold == int.MaxValue) return specs;
        int needed = IndexRegistry.Get(specs.Index).TrainingVectorsNeeded(specs.Index);
        int sample = Math.Min(options.TrainingThreshold, options.MaxTrainingSample);
        if (sample < needed)
        {
            string limit = options.MaxTrainingSample < options.TrainingThreshold
                ? $"max training sample {options.MaxTrainingSample:N0}"
                : $"training threshold {options.TrainingThreshold:N0}";
            throw new InvalidArgumentException(
                $"index '{specs.Index}' trains on at least {needed:N0} vectors (one per list), but the collection would train on {sample:N0} ({limit}): " +
                $"raise the training threshold (and max training sample) to at least {needed:N0}, or use fewer lists");
        }
        return specs;
    }

    /// <summary>
    /// Refuses to build <paramref name="index"/> on a sample of <paramref name="live"/> vectors (at most
    /// <paramref name="maxSample"/>) when it needs more (<see cref="IIndexFactory.TrainingVectorsNeeded"/>): a generation
    /// asked for by name is built as asked or not at all.
    /// </summary>
    internal static void CheckTrainingSample(IndexSpec index, int live, int maxSample, string collection)
    {
        int needed = IndexRegistry.Get(index).TrainingVectorsNeeded(index);
        if (Math.Min(live, maxSample) >= needed) return;
        throw new InvalidArgumentException(maxSample < needed
            ? $"index '{index}' trains on at least {needed:N0} vectors (one per list), and collection '{collection}' draws at most {maxSample:N0} (its max training sample, fixed at create): use fewer lists"
            : $"index '{index}' trains on at least {needed:N0} vectors (one per list), and collection '{collection}' has {live:N0} to train on: add vectors first, or use fewer lists");
    }
}
