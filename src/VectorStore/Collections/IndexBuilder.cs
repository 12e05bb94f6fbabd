using VectorStore.Clustering;
using VectorStore.Distance;
using VectorStore.Indexing;
using VectorStore.Quantization;
using VectorStore.Storage;

namespace VectorStore.Collections;

/// <summary>
/// How an index is made from a collection's stored vectors: a seeded training sample, an empty index (and refine
/// stage) trained on it, and slots added from their stored full-precision rows a chunk at a time. The collection
/// decides when (first training, a candidate generation, the changes since a restored index file) and holds the lock
/// each step names; this type takes no lock and holds no state of its own.
/// </summary>
/// <remarks>Thread-safety: any thread; methods that read slots or rows need their caller to exclude writers.</remarks>
internal sealed class IndexBuilder(int dimension, Metric metric, int seed, int maxTrainingSample, CompressionSpec? refineSpec, int threads,
    SlotTable slots, SegmentedVectors rows)
{
    /// <summary>Slots copied per lock hold while an index is built: writers wait at most one chunk's copy.</summary>
    public const int Chunk = 4096;

    /// <summary>
    /// A seeded uniform sample (without replacement) of up to <see cref="CollectionOptions.MaxTrainingSample"/> of
    /// <paramref name="liveSlots"/>' vectors. The caller excludes writers.
    /// </summary>
    public VectorMatrix Sample(int[] liveSlots, int sampleSeed)
    {
        var rng = new Random(sampleSeed);
        int sampleSize = Math.Min(maxTrainingSample, liveSlots.Length);
        // Partial Fisher–Yates over slots.
        var order = (int[])liveSlots.Clone();
        for (int i = 0; i < sampleSize; i++)
        {
            int j = rng.Next(i, order.Length);
            (order[i], order[j]) = (order[j], order[i]);
        }
        var sample = new VectorMatrix(sampleSize, dimension);
        for (int i = 0; i < sampleSize; i++) rows.Get(order[i]).CopyTo(sample[i]);
        return sample;
    }

    /// <summary>An empty index of <paramref name="index"/> over <paramref name="compression"/> (and the collection's refine stage), trained on <paramref name="sample"/>. Needs no lock.</summary>
    public (VectorIndex Index, RefineStage? Refine) TrainEmpty(CompressionSpec compression, IndexSpec index, VectorMatrix sample)
    {
        var context = new TrainingContext { Seed = seed, Threads = threads };
        var kind = metric.ToDistanceKind();
        var trained = IndexRegistry.Get(index).Create(index, compression, dimension, kind, sample, context);
        var refine = refineSpec is null ? null : RefineStage.Train(refineSpec, sample, kind, context);
        return (trained, refine);
    }

    /// <summary>The live slots among <paramref name="chunk"/> with a copy of their rows, or null when none is live. The caller excludes writers.</summary>
    public (int[] Slots, VectorMatrix Rows)? CopyLive(int[] chunk)
    {
        var copied = new VectorMatrix(chunk.Length, dimension);
        var kept = new int[chunk.Length];
        int n = 0;
        foreach (int s in chunk)
        {
            if (!slots.IsLive(s)) continue;
            rows.Get(s).CopyTo(copied[n]);
            kept[n++] = s;
        }
        if (n == 0) return null;
        return n == chunk.Length ? (kept, copied) : (kept[..n], new VectorMatrix(copied.Data.AsSpan(0, n * dimension).ToArray(), dimension));
    }

    /// <summary>Adds <paramref name="copied"/> (from <see cref="CopyLive"/>) to <paramref name="index"/> and <paramref name="refine"/>: no lock for a private index, else the one writes to it need.</summary>
    public void Add(VectorIndex index, RefineStage? refine, (int[] Slots, VectorMatrix Rows) copied)
    {
        var (kept, m) = copied;
        index.AddBatch(kept, m, threads);
        if (refine is not null)
            for (int i = 0; i < kept.Length; i++) refine.Encode(kept[i], m.Row(i));
    }
}
