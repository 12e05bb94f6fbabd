using System.Diagnostics;
using VectorStore.Distance;
using VectorStore.Indexing;
using VectorStore.Indexing.Hnsw;
using VectorStore.Indexing.Ivf;
using VectorStore.Ranking;
using VectorStore.Storage;

namespace VectorStore.Collections;

/// <summary>
/// Chooses the search settings for a requested recall on the collection's own data: the re-rank depth and, unless
/// the caller fixed them, the IVF lists probed and (with the caller's sample queries only; see Knobs) the HNSW beam.
/// The queries are either a seeded sample of stored vectors, each held out of its own ground truth (the exact top-k
/// of the other vectors), or queries the caller gives, ideally recorded traffic; the exact scan runs once, and each
/// measurement completes it with the slots written or deleted since, so writers going on meanwhile do not skew it. For
/// each knob value of a ladder, ascending, the smallest depth of the depth ladder whose mean recall@k reaches the
/// target is found; each such pair is then timed on the sample, searches and re-rank
/// together, on one thread, and the fastest wins (a larger knob only when clearly faster). The knob ladder stops
/// early once a value needs only the smallest depth, or its index search alone takes longer than the best pair so far
/// (both only grow with the knob). The choice rests on timings, so two tunings of the same data may differ where
/// pairs run close; a collection keeps its choice per generation. Re-ranking is timed at full precision, even with
/// a refine stage (which reads fewer rows). Stateless. The collection's data is read through an
/// <see cref="ITuningAccess"/>: it takes the collection's read lock per unit of work (the caller holds no lock), or,
/// for a caller that holds the read lock throughout, takes nothing.
/// </summary>
/// <remarks>
/// Depths are scored as prefixes of one deep candidate list per query where that equals a shallower search (flat
/// and IVF keep the best estimates whatever the list's length). HNSW widens its beam to the list's length, so a
/// prefix of a deep list is better than a shallow search: there each depth is searched on its own.
/// </remarks>
internal static class SearchTuner
{
    private static readonly int[] s_depthLadder = [1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 70, 100];
    private static readonly int[] s_efLadder = [16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024];
    private static readonly int[] s_probeLadder = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 160, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072, 4096];

    /// <summary>
    /// The settings, or depth 0 (and the knob as given) when codes are exact or there are too few vectors to
    /// measure. <paramref name="fixedKnob"/>'s non-zero fields are kept, not tuned. <paramref name="queries"/>, when
    /// given (prepared as searches prepare them), are the sample instead of <paramref name="sampleQueries"/> stored vectors.
    /// <paramref name="liveSlots"/> are the live slots when the tuning starts (its first unit); the slots changed since
    /// are <paramref name="access"/>'s <see cref="ITuningAccess.Changed"/>.
    /// </summary>
    /// <exception cref="TuningAbandonedException">The index was replaced while the tuning ran, or more slots changed
    /// than <see cref="SlotChanges.Limit"/>.</exception>
    public static TunedSearch Tune(VectorIndex index, IVectorReader raw, int[] liveSlots, ITuningAccess access, DistanceKind kind, double target, int k,
        int sampleQueries, int seed, IndexSearchParameters fixedKnob, ParallelOptions parallel, float[][]? queries = null)
    {
        if (index.Codec.EstimatesAreExact || liveSlots.Length <= k + 1) return Applicable(index, new TunedSearch(0, fixedKnob.Ef, fixedKnob.NProbe));
        // Capped at what a search accepts as its re-rank depth.
        int maxDepth = Math.Min(Math.Min(s_depthLadder[^1] * k, SearchOptions.MaxK), liveSlots.Length - 1);
        var depths = s_depthLadder.Select(f => Math.Min(f * k, maxDepth)).Where(d => d >= k).Distinct().ToArray();
        if (depths.Length == 0) depths = [maxDepth];
        var sample = queries is null
            ? Sample.OfStoredVectors(raw, liveSlots, access, kind, k, Math.Min(sampleQueries, liveSlots.Length / 2), seed, parallel)
            : new Sample(raw, liveSlots, access, kind, k, queries, Enumerable.Repeat(-1, queries.Length).ToArray(), parallel);
        // Every sampled vector deleted before it could be read: nothing to measure on, so the deepest depth.
        if (sample.Count == 0) return Applicable(index, new TunedSearch(depths[^1], fixedKnob.Ef, fixedKnob.NProbe));
        bool hnsw = index is HnswIndex;
        var knobs = Knobs(index, fixedKnob, realQueries: queries is not null);

        TunedSearch? best = null;
        double bestSeconds = double.PositiveInfinity;
        // Nothing reaches the target: the smallest knob whose deepest depth comes within 0.005 of the best recall
        // any knob reaches, not blindly the largest (a full scan for a target no setting meets).
        var deep = new List<(IndexSearchParameters Knob, double Recall)>();
        var timed = new List<(TunedSearch Candidate, IndexSearchParameters Knob, double Total)>();
        foreach (var knob in knobs)
        {
            var (depth, deepest) = hnsw ? SmallestDepthSearchingEach(index, sample, knob, depths, target, parallel) : SmallestDepthByPrefix(index, sample, knob, depths, target, parallel);
            deep.Add((knob, deepest));
            if (depth == 0) continue;
            var candidate = new TunedSearch(depth, knob.Ef, knob.NProbe);
            if (knobs.Length == 1) return Applicable(index, candidate); // nothing to choose between: no timing
            var (searchSeconds, totalSeconds) = sample.Time(index, knob, depth);
            timed.Add((candidate, knob, totalSeconds));
            Keep(candidate, totalSeconds, ref best, ref bestSeconds);
            if (depth == depths[0] || searchSeconds >= bestSeconds) break;
        }
        if (timed.Count > 1)
        {
            // Every pair timed again, the last first, and its better time kept. In a fresh process the first pairs
            // run on code the JIT has not optimized yet (measured: 55 ms for a pass that later took 7), which made a
            // full scan (every IVF list) look fastest and stick for the generation's life.
            var again = new double[timed.Count];
            for (int i = timed.Count - 1; i >= 0; i--) again[i] = sample.Time(index, timed[i].Knob, timed[i].Candidate.Rerank).Total;
            best = null;
            bestSeconds = double.PositiveInfinity;
            for (int i = 0; i < timed.Count; i++) Keep(timed[i].Candidate, Math.Min(timed[i].Total, again[i]), ref best, ref bestSeconds);
        }
        if (best is { } found) return Applicable(index, found);
        double top = deep.Max(d => d.Recall);
        var fallback = deep.First(d => d.Recall >= top - 0.005).Knob;
        return Applicable(index, new TunedSearch(depths[^1], fallback.Ef, fallback.NProbe));
    }

    /// <summary>
    /// Takes <paramref name="candidate"/> as the best when it is the first or clearly faster: a larger knob (candidates
    /// come in ladder order) must beat a smaller one by 10 %, since timings on a shared machine are noisy and near-ties
    /// should not make the choice flip between runs.
    /// </summary>
    private static void Keep(TunedSearch candidate, double seconds, ref TunedSearch? best, ref double bestSeconds)
    {
        if (best is not null && seconds >= 0.9 * bestSeconds) return;
        best = candidate;
        bestSeconds = seconds;
    }

    /// <summary>Zero for the knob the index does not have, so callers see only what applies.</summary>
    private static TunedSearch Applicable(VectorIndex index, TunedSearch t) =>
        t with { Ef = index is HnswIndex ? t.Ef : 0, NProbe = index is IvfIndex ? t.NProbe : 0 };

    /// <summary>The knob values to try, ascending: only the given one when the caller fixed it or the index has none.</summary>
    private static IndexSearchParameters[] Knobs(VectorIndex index, IndexSearchParameters fixedKnob, bool realQueries)
    {
        if (index is IvfIndex ivf && fixedKnob.NProbe == 0)
            return s_probeLadder.Where(p => p < ivf.NList).Append(ivf.NList).Select(p => fixedKnob with { NProbe = p }).ToArray();
        if (index is HnswIndex && fixedKnob.Ef == 0)
        {
            // HNSW's beam is tuned only on the caller's queries. Stored vectors are nodes of the graph, which leads a
            // search straight to their neighbours, so a narrow beam looks far better on them than on real queries
            // (measured on the text set: a beam of 16 tuned for 0.95 gave 0.90); on them the depth is tuned at the
            // default beam.
            return realQueries ? s_efLadder.Select(ef => fixedKnob with { Ef = ef }).ToArray() : [fixedKnob with { Ef = HnswIndex.DefaultEf }];
        }
        return [fixedKnob];
    }

    /// <summary>
    /// One search per query for the deepest list; each depth re-ranks a prefix of it. The smallest depth reaching the
    /// target (0: none) and the deepest depth's recall.
    /// </summary>
    private static (int Depth, double Deepest) SmallestDepthByPrefix(VectorIndex index, Sample sample, IndexSearchParameters knob, int[] depths, double target, ParallelOptions parallel)
    {
        var hits = new double[depths.Length];
        For(sample.Count, parallel, () => new Work(depths[^1] + 1, sample.K), (qi, w) =>
        {
            var local = sample.RecallByDepth(qi, index, w, knob, depths[^1] + 1, depths);
            lock (hits)
                for (int d = 0; d < depths.Length; d++) hits[d] += local[d];
        });
        for (int d = 0; d < depths.Length; d++)
            if (hits[d] / sample.Count >= target) return (depths[d], hits[^1] / sample.Count);
        return (0, hits[^1] / sample.Count);
    }

    /// <summary>A search per query and depth, ascending until one reaches the target (0: none does), and the last depth's recall.</summary>
    private static (int Depth, double Deepest) SmallestDepthSearchingEach(VectorIndex index, Sample sample, IndexSearchParameters knob, int[] depths, double target, ParallelOptions parallel)
    {
        double recall = 0;
        foreach (int depth in depths)
        {
            double hits = 0;
            For(sample.Count, parallel, () => new Work(depth + 1, sample.K), (qi, w) =>
            {
                double r = sample.RecallByDepth(qi, index, w, knob, depth + 1, [depth])[0];
                InterlockedAdd(ref hits, r);
            });
            recall = hits / sample.Count;
            if (recall >= target) return (depth, recall);
        }
        return (0, recall);
    }

    /// <summary>
    /// A parallel loop over the sample with per-worker state whose bodies take the lock per unit: a tuning abandoned or
    /// a collection closed in a worker surfaces as itself (<see cref="TuningAbandonedException"/>,
    /// <see cref="ObjectDisposedException"/>), not wrapped in the loop's <see cref="AggregateException"/>, so callers
    /// catch them as they would on their own thread.
    /// </summary>
    private static void For(int count, ParallelOptions parallel, Func<Work> init, Action<int, Work> body)
    {
        try
        {
            Parallel.For(0, count, parallel, init, (i, _, w) =>
            {
                body(i, w);
                return w;
            }, _ => { });
        }
        catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(x => x is TuningAbandonedException or ObjectDisposedException) is { } control)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(control);
        }
    }

    /// <summary>
    /// For each of <paramref name="depths"/> (ascending), recall@<paramref name="k"/> against <paramref name="truth"/>
    /// of re-ranking that prefix of <paramref name="candidates"/> by <paramref name="exact"/> distance (ties by
    /// slot); a depth past the list's end re-ranks the whole list. Each candidate is scored once, and only as far as
    /// the deepest depth reads.
    /// </summary>
    internal static double[] RecallByDepth(Func<int, float> exact, int[] candidates, int[] depths, int k, HashSet<int> truth)
    {
        var recall = new double[depths.Length];
        // The exact best k of the prefix read so far, ascending by (distance, slot): each depth's top k is the one a
        // re-rank of that prefix returns, kept up to date one candidate at a time instead of sorted anew per depth.
        var top = new (float Exact, int Slot)[k];
        int count = 0, d = 0;
        for (int i = 0; i < candidates.Length && d < depths.Length; i++)
        {
            var c = (Exact: exact(candidates[i]), Slot: candidates[i]);
            if (count < k || Before(c, top[count - 1]))
            {
                int at = count < k ? count++ : count - 1;
                while (at > 0 && Before(c, top[at - 1]))
                {
                    top[at] = top[at - 1];
                    at--;
                }
                top[at] = c;
            }
            for (; d < depths.Length && depths[d] <= i + 1; d++) recall[d] = Hits(top, count, truth, k);
        }
        for (; d < depths.Length; d++) recall[d] = Hits(top, count, truth, k);
        return recall;
    }

    private static double Hits((float Exact, int Slot)[] top, int count, HashSet<int> truth, int k)
    {
        int hits = 0;
        for (int i = 0; i < count; i++)
            if (truth.Contains(top[i].Slot)) hits++;
        return hits / (double)k;
    }

    private static bool Before((float Exact, int Slot) a, (float Exact, int Slot) b) =>
        a.Exact < b.Exact || (a.Exact == b.Exact && a.Slot < b.Slot);

    private static void InterlockedAdd(ref double target, double value)
    {
        double seen = Volatile.Read(ref target);
        while (true)
        {
            double was = Interlocked.CompareExchange(ref target, seen + value, seen);
            if (was == seen) return;
            seen = was;
        }
    }

    /// <summary>
    /// The sampled queries and, per query, the exact nearest slots among those unchanged since the tuning listed them,
    /// computed once for every knob value; each measurement makes its truth from them and the slots changed since.
    /// </summary>
    private sealed class Sample
    {
        /// <summary>Live slots one unit of the truth scan reads under the lock: a few milliseconds of distances.</summary>
        private const int TruthSlice = 16_384;
        private readonly IVectorReader _raw;
        private readonly int[] _liveSlots;
        private readonly ITuningAccess _access;
        private readonly DistanceKind _kind;
        private readonly int[] _self;
        private readonly float[][] _queries;

        /// <summary>
        /// Per query, the exact nearest 2k of the listed slots not changed when it was scanned, ascending by
        /// (distance, slot): as long as k of them stay unchanged, they hold the k nearest unchanged slots, and
        /// deletions need no new scan. Fewer than 2k: every unchanged slot.
        /// </summary>
        private readonly (int[] Slots, float[] Distances)[] _nearest;

        /// <summary>
        /// Up to <paramref name="count"/> stored vectors, seeded, each a query whose truth leaves itself out (those
        /// deleted since <paramref name="liveSlots"/> was taken are left out).
        /// </summary>
        public static Sample OfStoredVectors(IVectorReader raw, int[] liveSlots, ITuningAccess access, DistanceKind kind, int k, int count, int seed, ParallelOptions parallel)
        {
            var rng = new Random(seed);
            var order = (int[])liveSlots.Clone();
            for (int i = 0; i < count; i++)
            {
                int j = rng.Next(i, order.Length);
                (order[i], order[j]) = (order[j], order[i]);
            }
            var self = new List<int>(count);
            var queries = new List<float[]>(count);
            access.Enter();
            try
            {
                foreach (int s in order.AsSpan(0, count))
                {
                    if (!access.IsLive(s)) continue;
                    self.Add(s);
                    queries.Add(raw.Get(s).ToArray());
                }
            }
            finally { access.Exit(); }
            return new Sample(raw, liveSlots, access, kind, k, queries.ToArray(), self.ToArray(), parallel);
        }

        /// <summary><paramref name="queries"/>, each with the slot its truth leaves out (-1: none).</summary>
        public Sample(IVectorReader raw, int[] liveSlots, ITuningAccess access, DistanceKind kind, int k, float[][] queries, int[] self, ParallelOptions parallel)
        {
            _raw = raw;
            _liveSlots = liveSlots;
            _access = access;
            _kind = kind;
            K = k;
            _self = self;
            _queries = queries;
            _nearest = new (int[], float[])[queries.Length];
            For(queries.Length, parallel, () => new Work(2 * k, k), (qi, w) => _nearest[qi] = Nearest(qi, w));
        }

        /// <summary>
        /// The exact scan of query <paramref name="qi"/> over the listed slots, a slice per unit, skipping those changed
        /// (they are scored at each measurement instead, as they are then).
        /// </summary>
        private (int[] Slots, float[] Distances) Nearest(int qi, Work w)
        {
            w.Heap.Reset(2 * K);
            for (int from = 0; from < _liveSlots.Length; from += TruthSlice)
            {
                _access.Enter();
                try
                {
                    var changed = _access.Changed;
                    foreach (int s in _liveSlots.AsSpan(from, Math.Min(TruthSlice, _liveSlots.Length - from)))
                        if (s != _self[qi] && !changed.Contains(s)) w.Heap.Push(s, Distances.Compute(_kind, _queries[qi], _raw.Get(s)));
                }
                finally { _access.Exit(); }
            }
            var slots = new int[w.Heap.Count];
            var distances = new float[slots.Length];
            w.Heap.Drain(slots, distances);
            return (slots, distances);
        }

        /// <summary>
        /// Query <paramref name="qi"/>'s exact top k of the live vectors now (inside a unit): the nearest unchanged
        /// slots of its scan and every live changed slot, scored now. False when the scan no longer holds k unchanged
        /// slots and there may be unchanged ones it did not keep: it must be scanned again.
        /// </summary>
        private bool TryTruth(int qi, Work w, out HashSet<int> truth)
        {
            var (slots, distances) = _nearest[qi];
            var changed = _access.Changed;
            w.Heap.Reset(K);
            int unchanged = 0;
            for (int i = 0; i < slots.Length; i++)
            {
                if (changed.Contains(slots[i])) continue;
                w.Heap.Push(slots[i], distances[i]);
                unchanged++;
            }
            truth = [];
            if (unchanged < K && slots.Length == 2 * K) return false;
            var q = _queries[qi];
            for (int i = 0; i < changed.Count; i++)
            {
                int s = changed[i];
                if (s != _self[qi] && _access.IsLive(s)) w.Heap.Push(s, Distances.Compute(_kind, q, _raw.Get(s)));
            }
            int n = w.Heap.Drain(w.Slots, w.Dists);
            truth = new HashSet<int>(w.Slots.AsSpan(0, n).ToArray());
            return true;
        }

        public int Count => _self.Length;

        public int K { get; }

        public int Self(int qi) => _self[qi];

        public float[] Query(int qi) => _queries[qi];

        /// <summary>
        /// For each depth, recall@k of re-ranking that prefix of the index's best <paramref name="count"/> candidates
        /// for query <paramref name="qi"/> (best estimate first) exactly; each candidate is scored once. One unit of
        /// work: the candidates are read under the lock they were found under.
        /// </summary>
        public double[] RecallByDepth(int qi, VectorIndex index, Work w, IndexSearchParameters knob, int count, int[] depths)
        {
            var q = _queries[qi];
            while (true)
            {
                _access.Enter();
                try
                {
                    // Truth and candidates from the same unit: a truth from an earlier one counts the vectors deleted
                    // since as misses and ranks the ones added since below what a search then returns.
                    if (TryTruth(qi, w, out var truth))
                        return SearchTuner.RecallByDepth(slot => Distances.Compute(_kind, q, _raw.Get(slot)), w.Candidates(index, this, qi, knob, count), depths, K, truth);
                }
                finally { _access.Exit(); }
                // Ends: each scan keeps 2k slots, more than k of which must change before the next unit to get here
                // again, and past SlotChanges.Limit changes the tuning is abandoned.
                _nearest[qi] = Nearest(qi, w);
            }
        }

        /// <summary>
        /// Seconds the sample takes on this thread at <paramref name="knob"/> and <paramref name="depth"/>: the index
        /// searches alone, and with each query's candidates re-scored exactly as a search re-ranks them. The best of
        /// at least three passes and 20 ms: a single pass of a small sample lasts a few milliseconds, and the first
        /// pairs timed would otherwise be charged for code not yet optimized by the JIT (measured: a beam twice as
        /// fast lost to a wider one timed later).
        /// </summary>
        public (double Search, double Total) Time(VectorIndex index, IndexSearchParameters knob, int depth)
        {
            var best = (Search: double.PositiveInfinity, Total: double.PositiveInfinity);
            long started = Stopwatch.GetTimestamp();
            for (int pass = 0; pass < 3 || (pass < 50 && Stopwatch.GetElapsedTime(started).TotalSeconds < 0.02); pass++)
            {
                var t = TimeOnce(index, knob, depth);
                best = (Math.Min(best.Search, t.Search), Math.Min(best.Total, t.Total));
            }
            return best;
        }

        /// <summary>
        /// One timed pass of the sample. Each query is one unit of work (a pass of 200 would hold writers off for tens
        /// of milliseconds), and only the time inside the lock is counted, so a wait for a writer is not charged to
        /// the knob being timed.
        /// </summary>
        private (double Search, double Total) TimeOnce(VectorIndex index, IndexSearchParameters knob, int depth)
        {
            var w = new Work(depth, K);
            var dists = new float[depth];
            long search = 0, total = 0;
            for (int qi = 0; qi < Count; qi++)
            {
                _access.Enter();
                try
                {
                    long t0 = Stopwatch.GetTimestamp();
                    w.Heap.Reset(depth);
                    index.Search(_queries[qi], knob, null, w.Heap);
                    int n = w.Heap.DrainUnordered(w.Slots, w.Dists);
                    long t1 = Stopwatch.GetTimestamp();
                    _raw.ComputeDistances(_kind, _queries[qi], w.Slots.AsSpan(0, n), dists);
                    search += t1 - t0;
                    total += Stopwatch.GetTimestamp() - t0;
                }
                finally { _access.Exit(); }
            }
            return ((double)search / Stopwatch.Frequency, (double)total / Stopwatch.Frequency);
        }
    }

    private sealed class Work(int capacity, int k)
    {
        public TopK Heap { get; } = new(Math.Max(capacity, k));
        public int[] Slots { get; } = new int[Math.Max(capacity, k)];
        public float[] Dists { get; } = new float[Math.Max(capacity, k)];

        /// <summary>The index's best <paramref name="count"/> candidates for sample query <paramref name="qi"/>, best first, itself left out.</summary>
        public int[] Candidates(VectorIndex index, Sample sample, int qi, IndexSearchParameters knob, int count)
        {
            Heap.Reset(count);
            index.Search(sample.Query(qi), knob, null, Heap);
            int n = Heap.Drain(Slots, Dists);
            int self = sample.Self(qi);
            return Slots.AsSpan(0, n).ToArray().Where(s => s != self).ToArray();
        }
    }
}

/// <summary>Search settings chosen for a target recall: the re-rank depth, and the HNSW beam width and IVF lists probed (0: the index default).</summary>
internal readonly record struct TunedSearch(int Rerank, int Ef, int NProbe);
