using VectorStore.Distance;
using VectorStore.Filtering;
using VectorStore.Indexing;
using VectorStore.Ranking;
using VectorStore.Storage;
using VectorStore.Telemetry;

namespace VectorStore.Collections;

/// <summary>
/// The query path of one collection, below its lock: query preparation, the filter plan (empty, exact scan of the
/// matches, post-filter, or a filtered index search), the index search with its knobs (tuned ones for a target
/// recall), the re-rank (refine stage or full precision) and the hits with their requested parts. It reads the
/// collection's slot table, rows and fields but changes none of them; the <see cref="Collection"/> decides which
/// generation answers and holds the lock.
/// Thread-safety: every search member runs under the collection's read (or write) lock, any number at once, each with
/// its thread's <see cref="Scratch"/>; <see cref="InvalidateFilters"/> runs under the write lock.
/// </summary>
internal sealed class SearchPipeline
{
    private readonly Metric _metric;
    private readonly bool _outOfCore;
    private readonly SlotTable _slots;
    private readonly SegmentedVectors _raw;
    private readonly FieldIndex? _fields;
    private readonly FilterCache _filters = new();
    private readonly Func<Generation, double, int, IndexSearchParameters, TunedSearch> _tuned;
    private readonly ThreadLocal<SearchScratch> _scratch;

    /// <summary>
    /// The pipeline over a collection's <paramref name="slots"/>, <paramref name="raw"/> rows and
    /// <paramref name="fields"/>; <paramref name="tuned"/> gives a generation's tuned knobs for a target recall
    /// (tuning once per generation and target, <c>Collection.Tuning.cs</c>).
    /// </summary>
    public SearchPipeline(CollectionOptions options, SlotTable slots, SegmentedVectors raw, FieldIndex? fields,
        Func<Generation, double, int, IndexSearchParameters, TunedSearch> tuned)
    {
        _metric = options.Metric;
        _outOfCore = options.RawVectors == RawVectorResidency.Disk;
        _slots = slots;
        _raw = raw;
        _fields = fields;
        _tuned = tuned;
        int dimension = options.Dimension;
        _scratch = new ThreadLocal<SearchScratch>(() => new SearchScratch(dimension));
    }

    /// <summary>This thread's buffers (its last search's statistics included).</summary>
    public SearchScratch Scratch => _scratch.Value!;

    /// <summary>Drops cached filter results: the slots or field values they were built from changed (write lock).</summary>
    public void InvalidateFilters() => _filters.Invalidate();

    /// <summary>
    /// Copies <paramref name="query"/> into <paramref name="q"/>, refusing a non-finite value or, for cosine, a zero
    /// vector (naming query <paramref name="row"/> of a batch when given), and normalizes it for cosine.
    /// </summary>
    public void PrepareQuery(ReadOnlySpan<float> query, Span<float> q, int row = -1)
    {
        CheckQuery(query, row);
        CopyNormalized(query, q);
    }

    /// <summary>
    /// Refuses a non-finite value in <paramref name="query"/> or, for cosine, a zero vector, naming query
    /// <paramref name="row"/> of a batch when given.
    /// </summary>
    public void CheckQuery(ReadOnlySpan<float> query, int row = -1) => QueryValidation.Check(query, _metric, row);

    /// <summary>Copies a checked <paramref name="query"/> into <paramref name="q"/>, normalized for cosine.</summary>
    public void CopyNormalized(ReadOnlySpan<float> query, Span<float> q)
    {
        query.CopyTo(q);
        if (_metric == Metric.Cosine) Distances.Normalize(q);
    }

    /// <summary>
    /// Filters at or below this many matches are answered by an exact scan of just the matches when the vectors are in
    /// RAM. Out of core each exact score is a read, so there the bound is twice the re-rank depth (as many reads as
    /// the index path would make anyway).
    /// </summary>
    internal const int ExactFilterThreshold = 4096;

    /// <summary>
    /// At or above this fraction of live records matching, a filter is applied after an over-fetching unfiltered
    /// search. Not lower: a filter correlated against the query's neighbourhood (measured: `kind == para`, 59 % of the
    /// text set, against summary-like queries) leaves fewer matches than candidates in two queries of three, and each
    /// such query then pays the filtered search on top.
    /// </summary>
    internal const double PostFilterFraction = 0.9;

    /// <summary>
    /// Searches generation <paramref name="gen"/> (its index, refine stage and tuned re-rank depths); with
    /// <paramref name="exact"/>, or while it is untrained, scores every (matching) vector at full precision.
    /// </summary>
    public SearchHit[] Search(float[] q, SearchOptions options, SearchScratch scratch, Generation gen, bool exact = false)
    {
        var index = exact ? null : gen.Index;
        using var filter = options.Filter is null ? null : BuildFilter(options.Filter);
        int k = options.K;
        var heap = scratch.Heap;
        if (filter is { Count: 0 })
        {
            scratch.Stats = new SearchStats(Exact: true, Reranked: 0, FilterPlan.Empty);
            return [];
        }
        int exactBound = _outOfCore ? 2 * Math.Max(k, options.Rerank) : ExactFilterThreshold;
        if (index is null || (filter is not null && filter.Count <= exactBound))
        {
            // Exact: no index yet, or a filter so selective that scoring its matches is cheaper and exact.
            var kind = _metric.ToDistanceKind();
            heap.Reset(k);
            IEnumerable<int> slots = filter is not null ? filter.Slots() : _slots.LiveSlots();
            foreach (int slot in slots) heap.Push(slot, Distances.Compute(kind, q, _raw.Get(slot)));
            scratch.Stats = new SearchStats(Exact: true, Reranked: 0, filter is null ? FilterPlan.None : FilterPlan.Exact, filter?.Count ?? 0);
            // Numbered all the same: it is this generation's answer (an untrained one has only its full-precision
            // vectors), and a hit's generation must agree with the live one that `info` reports.
            return Drain(heap, k, scratch, options, gen.Number);
        }
        var (p, rerank, candidates) = Knobs(gen, index, options);
        var plan = filter is null ? FilterPlan.None : FilterPlan.Index;
        double fraction = filter is null ? 1 : filter.Count / (double)Math.Max(1, _slots.Count);
        if (filter is not null && fraction >= PostFilterFraction && PostFilterSearch(index, q, p, filter, fraction, candidates, scratch))
            plan = FilterPlan.PostFilter;
        else
        {
            heap.Reset(candidates);
            index.Search(q, p, filter, heap);
        }
        scratch.Stats = new SearchStats(Exact: false, Reranked: 0, plan, filter?.Count ?? 0);
        return Finish(q, heap, rerank, candidates, options, scratch, gen);
    }

    /// <summary>
    /// The index knobs of a search of <paramref name="gen"/>, its re-rank depth (the tuned ones for a target recall,
    /// tuned once per generation), and how many candidates the index is asked for.
    /// </summary>
    public (IndexSearchParameters P, int Rerank, int Candidates) Knobs(Generation gen, VectorIndex index, SearchOptions options)
    {
        bool exactCodes = index.Codec.EstimatesAreExact;
        int rerank = options.Rerank, k = options.K;
        var p = new IndexSearchParameters { Ef = options.Ef, NProbe = options.NProbe, MinResults = k };
        if (rerank == 0 && options.TargetRecall > 0 && !exactCodes)
        {
            // The depth and whatever knob the caller left at 0, tuned once per generation for this target.
            var tuned = _tuned(gen, options.TargetRecall, k, p);
            rerank = tuned.Rerank;
            p = new IndexSearchParameters { Ef = tuned.Ef, NProbe = tuned.NProbe, MinResults = k };
        }
        return (p, exactCodes ? 0 : rerank, exactCodes ? k : Math.Max(k, rerank));
    }

    /// <summary>
    /// Re-ranks the index's <paramref name="candidates"/> (the refine stage, or full precision) when
    /// <paramref name="rerank"/> asks for it, and returns the best k as hits. <paramref name="heap"/> may be the
    /// scratch's own heap: it is drained before that is reused.
    /// </summary>
    public SearchHit[] Finish(float[] q, TopK heap, int rerank, int candidates, SearchOptions options, SearchScratch scratch, Generation gen)
    {
        int k = options.K, number = gen.Number;
        if (rerank <= 0) return Drain(heap, k, scratch, options, number);
        // The candidates' order does not matter: they are re-scored, and the heap ranks ties by slot.
        int n = heap.DrainUnordered(scratch.Slots(candidates), scratch.Dists(candidates));
        heap = scratch.Heap;
        heap.Reset(k);
        if (gen.Refine is { } refine)
        {
            // Second stage: the finer in-RAM code, and full precision only where its error bound cannot decide.
            int reads = refine.Refine(q, scratch.SlotBuffer.AsSpan(0, n), k, heap, _raw);
            scratch.Stats = scratch.Stats with { Reranked = reads };
            return Drain(heap, k, scratch, options, number);
        }
        var cs = scratch.SlotBuffer;
        // Score all candidates first (prefetching ahead: they are DRAM misses), then offer them.
        var ds = scratch.DistBuffer;
        _raw.ComputeDistances(_metric.ToDistanceKind(), q, cs.AsSpan(0, n), ds.AsSpan(0, n));
        for (int i = 0; i < n; i++) heap.Push(cs[i], ds[i]);
        scratch.Stats = scratch.Stats with { Reranked = n };
        return Drain(heap, k, scratch, options, number);
    }

    /// <summary>
    /// Most records match: searches without the filter for <paramref name="candidates"/>/fraction (plus slack)
    /// candidates with a beam and probe widened alike, and keeps the matching ones in the scratch heap. False (heap
    /// unspecified) when fewer than <paramref name="candidates"/> survive: the caller then searches with the filter.
    /// </summary>
    private bool PostFilterSearch(VectorIndex index, float[] q, IndexSearchParameters p, SlotFilter filter, double fraction, int candidates, SearchScratch scratch)
    {
        int fetch = (int)Math.Min(SearchOptions.MaxK, Math.Ceiling(candidates / fraction) + 8);
        var wide = new IndexSearchParameters
        {
            Ef = p.Ef > 0 ? (int)Math.Ceiling(p.Ef / fraction) : 0,
            NProbe = p.NProbe > 0 ? (int)Math.Ceiling(p.NProbe / fraction) : 0,
            MinResults = p.MinResults,
        };
        var heap = scratch.Heap;
        heap.Reset(fetch);
        index.Search(q, wide, null, heap);
        int n = heap.DrainUnordered(scratch.Slots(fetch), scratch.Dists(fetch));
        heap.Reset(candidates);
        int kept = 0;
        for (int i = 0; i < n; i++)
        {
            int slot = scratch.SlotBuffer[i];
            if (!filter.Contains(slot)) continue;
            heap.Push(slot, scratch.DistBuffer[i]);
            kept++;
        }
        return kept >= candidates;
    }

    private SearchHit[] Drain(TopK heap, int k, SearchScratch scratch, SearchOptions options, int generation)
    {
        int n = heap.Drain(scratch.Slots(k), scratch.Dists(k));
        var hits = new SearchHit[n];
        bool extras = options.IncludeFields || options.IncludePayload || options.IncludeVector;
        for (int i = 0; i < n; i++)
        {
            int slot = scratch.SlotBuffer[i];
            var hit = new SearchHit(_slots.Ids[slot], _metric.ToScore(scratch.DistBuffer[i])) { Generation = generation };
            if (extras)
            {
                hit = hit with
                {
                    Fields = options.IncludeFields ? _fields?.Get(slot) ?? VectorRecord.EmptyFields : null,
                    Payload = options.IncludePayload ? _raw.Payload(slot) ?? [] : null,
                    Vector = options.IncludeVector ? _raw.Get(slot).ToArray() : null,
                };
            }
            hits[i] = hit;
        }
        return hits;
    }

    /// <summary>
    /// The slots a filter admits: the field expression is evaluated on the field indexes (bitmaps), then intersected
    /// with the id set and the predicate, each tested only on what the previous parts admitted.
    /// </summary>
    public SlotFilter BuildFilter(SearchFilter f)
    {
        if (f is { Where: not null, Ids: null, Predicate: null })
            return _filters.GetOrBuild(f.Where, () => BuildFilterInto(new SlotFilter(_slots.HighWater), f));
        return BuildFilterInto(SlotFilter.Rent(_slots.HighWater), f);
    }

    private SlotFilter BuildFilterInto(SlotFilter filter, SearchFilter f)
    {
        try
        {
            using var matches = f.Where is null ? null : FilterEvaluator.Evaluate(_fields, f.Where);
            if (f.Ids is not null)
            {
                foreach (var id in f.Ids)
                    if (_slots.TryGetSlot(id, out int slot) && (matches is null || matches.Contains((uint)slot))
                        && (f.Predicate is null || f.Predicate(id, _raw.Payload(slot))))
                        filter.Add(slot);
                return filter;
            }
            if (matches is null)
            {
                if (f.Predicate is null) throw new InvalidArgumentException("a search filter needs ids, a where expression or a predicate");
                foreach (int slot in _slots.LiveSlots())
                    if (f.Predicate(_slots.Ids[slot], _raw.Payload(slot))) filter.Add(slot);
                return filter;
            }
            int count = (int)matches.Count;
            var buffer = System.Buffers.ArrayPool<uint>.Shared.Rent(Math.Max(1, count));
            try
            {
                matches.CopyTo(buffer.AsSpan(0, count));
                if (f.Predicate is null) filter.AddMany(buffer.AsSpan(0, count));
                else
                    foreach (uint slot in buffer.AsSpan(0, count))
                        if (f.Predicate(_slots.Ids[slot], _raw.Payload((int)slot))) filter.Add((int)slot);
            }
            finally { System.Buffers.ArrayPool<uint>.Shared.Return(buffer); }
            return filter;
        }
        catch
        {
            filter.Dispose();
            throw;
        }
    }
}
