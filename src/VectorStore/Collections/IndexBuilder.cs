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
    /// <remarks><paramref name="slotsToEncode"/>: the slot high water the caller read under its lock, so the refine codes are allocated once.</remarks>
    public (VectorIndex Index, RefineStage? Refine) TrainEmpty(CompressionSpec compression, IndexSpec index, VectorMatrix sample, int slotsToEncode)
    {
        var context = new TrainingContext { Seed = seed, Threads = threads };
        var kind = metric.ToDistanceKind();
        var trained = IndexRegistry.Get(index).Create(index, compression, dimension, kind, sample, context);
        var refine = refineSpec is null ? null : RefineStage.Train(refineSpec, sample, kind, context);
        refine?.Reserve(slotsToEncode);
        return (trained, refine);
    }

    /// <summary>Room for <see cref="CopyLive"/> to copy <paramref name="slotCount"/> rows into, made before the caller takes its lock.</summary>
    public (int[] Kept, VectorMatrix Rows) Buffers(int slotCount) => (new int[slotCount], new VectorMatrix(slotCount, dimension));

    /// <summary>
    /// Copies the live slots among <paramref name="chunk"/> and their rows into <paramref name="buffers"/> (from
    /// <see cref="Buffers"/>); returns how many. The caller excludes writers, and nothing is allocated meanwhile.
    /// </summary>
    public int CopyLive(int[] chunk, (int[] Kept, VectorMatrix Rows) buffers)
    {
        var (kept, copied) = buffers;
        int n = 0;
        foreach (int s in chunk)
        {
            if (!slots.IsLive(s)) continue;
            rows.Get(s).CopyTo(copied[n]);
            kept[n++] = s;
        }
        return n;
    }

    /// <summary>
    /// Adds the first <paramref name="n"/> slots <see cref="CopyLive"/> copied to <paramref name="index"/> and
    /// <paramref name="refine"/>: no lock for a private index, else the one writes to it need.
    /// </summary>
    public void Add(VectorIndex index, RefineStage? refine, (int[] Kept, VectorMatrix Rows) buffers, int n)
    {
        if (n == 0) return;
        var (kept, copied) = buffers;
        var m = n == copied.Count ? copied : copied.Slice(0, n);
        index.AddBatch(kept.AsSpan(0, n), m, threads);
        if (refine is not null)
            for (int i = 0; i < n; i++) refine.Encode(kept[i], m.Row(i));
    }
}
