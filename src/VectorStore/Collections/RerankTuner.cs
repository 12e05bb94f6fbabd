using VectorStore.Distance;
using VectorStore.Indexing;
using VectorStore.Quantization;
using VectorStore.Ranking;
using VectorStore.Storage;

namespace VectorStore.Collections;

/// <summary>
/// Chooses a re-rank depth for a requested recall on the collection's own data: a seeded sample of stored vectors
/// serve as queries, each held out of its own ground truth (the exact top-k of the other vectors); the index is
/// searched once per query for the deepest candidate list, and every depth of a ladder is scored by re-ranking a
/// prefix of it. The smallest depth whose mean recall@k reaches the target wins. Stateless; the caller holds the
/// collection's read lock.
/// </summary>
internal static class RerankTuner
{
    private static readonly int[] s_ladder = [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 70, 100];

    /// <summary>The depth, or 0 when codes are exact or there are too few vectors to measure.</summary>
    public static int Tune(VectorIndex index, IVectorReader raw, int[] liveSlots, DistanceKind kind, double target, int k,
        int sampleQueries, int seed, IndexSearchParameters parameters, ParallelOptions parallel)
    {
        if (index.Codec.EstimatesAreExact || liveSlots.Length <= k + 1) return 0;
        int maxDepth = Math.Min(s_ladder[^1] * k, liveSlots.Length - 1);
        var depths = s_ladder.Select(f => Math.Min(f * k, maxDepth)).Distinct().ToArray();
        var rng = new Random(seed);
        int nq = Math.Min(sampleQueries, liveSlots.Length / 2);
        var order = (int[])liveSlots.Clone();
        for (int i = 0; i < nq; i++)
        {
            int j = rng.Next(i, order.Length);
            (order[i], order[j]) = (order[j], order[i]);
        }
        var hits = new double[depths.Length];
        Parallel.For(0, nq, parallel, () => new Work(maxDepth + 1, k), (qi, _, w) =>
        {
            int self = order[qi];
            var q = raw.Get(self).ToArray();
            // Exact truth over every other live vector.
            w.Heap.Reset(k);
            foreach (int s in liveSlots)
                if (s != self) w.Heap.Push(s, Distances.Compute(kind, q, raw.Get(s)));
            int nt = w.Heap.Drain(w.Slots, w.Dists);
            var truth = new HashSet<int>(w.Slots.AsSpan(0, nt).ToArray());
            // One index search for the deepest list; each depth re-ranks a prefix of it.
            w.Heap.Reset(maxDepth + 1);
            index.Search(q, parameters, null, w.Heap);
            int nc = w.Heap.Drain(w.Slots, w.Dists);
            var cand = new List<(float Exact, int Slot)>(nc);
            for (int i = 0; i < nc; i++)
                if (w.Slots[i] != self) cand.Add((Distances.Compute(kind, q, raw.Get(w.Slots[i])), w.Slots[i]));
            var local = new double[depths.Length];
            for (int d = 0; d < depths.Length; d++)
            {
                var top = cand.Take(depths[d]).OrderBy(c => c.Exact).ThenBy(c => c.Slot).Take(k);
                local[d] = top.Count(c => truth.Contains(c.Slot)) / (double)k;
            }
            lock (hits)
                for (int d = 0; d < depths.Length; d++) hits[d] += local[d];
            return w;
        }, _ => { });
        for (int d = 0; d < depths.Length; d++)
            if (hits[d] / nq >= target) return depths[d];
        return depths[^1];
    }

    private sealed class Work(int capacity, int k)
    {
        public TopK Heap { get; } = new(Math.Max(capacity, k));
        public int[] Slots { get; } = new int[Math.Max(capacity, k)];
        public float[] Dists { get; } = new float[Math.Max(capacity, k)];
    }
}
