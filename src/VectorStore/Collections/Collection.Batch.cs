using System.Diagnostics;
using VectorStore.Ranking;
using VectorStore.Storage;
using VectorStore.Telemetry;

namespace VectorStore.Collections;

public sealed partial class Collection
{
    /// <summary>Rows a worker of <see cref="SearchBatch"/> searches under one lock and one index call, at most.</summary>
    internal const int BatchRows = 64;

    /// <summary>
    /// Searches every row of <paramref name="queries"/> on <paramref name="threads"/> threads (0 = the database's
    /// <see cref="DatabaseOptions.Threads"/>, itself 0 = all cores by default); row i's hits are those
    /// <see cref="Search"/> gives for it.
    /// </summary>
    /// <remarks>
    /// Without a filter or a running canary, each worker takes a chunk of up to <see cref="BatchRows"/> rows and
    /// searches them with one read lock, one choice of generation and knobs, and one index call, in which flat and IVF
    /// indexes over 4-bit fast-scan codes score each code block for up to four rows per pass (the AVX-512 kernel;
    /// two with AVX2); each row is then re-ranked on its own. IVF with residual codes or spill, and codecs without a
    /// batch scorer (among them transformed ones such as <c>opq</c> or <c>pca:…+</c>), search a chunk's rows one by
    /// one, still under the chunk's lock. Otherwise rows are searched one by one. The read lock is held for a chunk's
    /// index call and re-ranks, so a writer waits up to one chunk's searches. In the metrics each row counts as one
    /// search (or one failure), timed from its chunk's start; batched rows emit no trace span.
    /// </remarks>
    public SearchHit[][] SearchBatch(VectorMatrix queries, SearchOptions? options = null, int threads = 0) =>
        SearchBatchCore(queries, options, threads, CancellationToken.None);

    private SearchHit[][] SearchBatchCore(VectorMatrix queries, SearchOptions? options, int threads, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queries);
        options ??= new SearchOptions();
        ValidateSearch(queries.Dimension, options);
        // Every row is checked before any is searched: a bad row is named, and the workers see only good ones.
        for (int i = 0; i < queries.Count; i++) _search.CheckQuery(queries.Row(i), i);
        PrepareTargetRecall(options);
        var results = new SearchHit[queries.Count][];
        var po = Parallelism(threads);
        po.CancellationToken = cancellationToken;
        if (options.Filter is not null || _canary is not null || queries.Count < 2)
        {
            Fan(queries.Count, po, i => results[i] = Search(queries.Row(i), options));
            return results;
        }
        // Chunks small enough that every worker gets one, and no larger than BatchRows.
        int rows = Math.Clamp((queries.Count + po.MaxDegreeOfParallelism - 1) / po.MaxDegreeOfParallelism, 1, BatchRows);
        int chunks = (queries.Count + rows - 1) / rows;
        Fan(chunks, po, c => SearchChunk(queries, c * rows, Math.Min(rows, queries.Count - c * rows), options, results));
        return results;
    }

    /// <summary>
    /// Parallel.For that throws a worker's exception itself (the first), not wrapped in an AggregateException; a
    /// cancelled token ends it with <see cref="OperationCanceledException"/> between iterations.
    /// </summary>
    private static void Fan(int count, ParallelOptions po, Action<int> body)
    {
        try { Parallel.For(0, count, po, body); }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
        }
    }

    /// <summary>Searches rows <paramref name="first"/> … + <paramref name="count"/> of a batch into <paramref name="results"/>.</summary>
    private void SearchChunk(VectorMatrix queries, int first, int count, SearchOptions options, SearchHit[][] results)
    {
        long started = Stopwatch.GetTimestamp();
        var scratch = _search.Scratch;
        int dim = Options.Dimension;
        var (prepared, heaps) = scratch.Batch(count);
        for (int i = 0; i < count; i++) _search.CopyNormalized(queries.Row(first + i), prepared.AsSpan(i * dim, dim)); // checked by SearchBatchCore
        var q = scratch.Query;
        string raw = Options.RawVectors == RawVectorResidency.Disk ? "disk" : "ram";
        _lock.EnterReadLock();
        try
        {
            ThrowIfClosed();
            var gen = Serving(options);
            var index = gen.Index;
            // Untrained (no index): each row is searched exactly, by SearchLocked.
            var (p, rerank, candidates) = index is null ? default : _search.Knobs(gen, index, options);
            if (index is not null)
            {
                for (int i = 0; i < count; i++) heaps[i].Reset(candidates);
                index.SearchBatch(prepared.AsSpan(0, count * dim), p, heaps.AsSpan(0, count));
            }
            for (int i = 0; i < count; i++)
            {
                var op = Instruments.StartBatchedSearch(Name, started);
                long reads = SegmentedVectors.ThreadDiskReads;
                try
                {
                    prepared.AsSpan(i * dim, dim).CopyTo(q);
                    SearchHit[] hits;
                    if (index is null) hits = _search.Search(q, options, scratch, gen);
                    else
                    {
                        scratch.Stats = new SearchStats(Exact: false, Reranked: 0, FilterPlan.None);
                        hits = _search.Finish(q, heaps[i], rerank, candidates, options, scratch, gen);
                    }
                    results[first + i] = hits;
                    op.SearchSucceeded(hits.Length, scratch.Stats, IndexKind, raw, SegmentedVectors.ThreadDiskReads - reads);
                }
                catch (Exception e)
                {
                    op.Failed(e);
                    throw;
                }
            }
        }
        finally { _lock.ExitReadLock(); }
    }
}
