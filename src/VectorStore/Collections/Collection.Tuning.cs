using VectorStore.Distance;
using VectorStore.Indexing;
using VectorStore.Indexing.Hnsw;
using VectorStore.Indexing.Ivf;

namespace VectorStore.Collections;

/// <summary>Search settings for a target recall: tuned on request, on the caller's queries, and again in the background when the live index changes.</summary>
public sealed partial class Collection
{
    /// <summary>Sample queries of the tuning a <see cref="SearchOptions.TargetRecall"/> search runs (and caches).</summary>
    private const int TuningSampleQueries = 200;

    /// <summary>
    /// How many of the queries given to <see cref="TuneSearchOnQueries"/> the collection keeps for later tunings (a
    /// seeded sample when given more): as many as a tuning on stored vectors uses, so a later tuning costs the same;
    /// 300 KB at 384 dimensions.
    /// </summary>
    internal const int MaxRememberedTuningQueries = TuningSampleQueries;

    /// <summary>The caller's last tuning queries (prepared), or null: later tunings run on them instead of stored vectors. In memory only.</summary>
    private float[][]? _tuningQueries;

    /// <summary>
    /// The smallest re-rank depth whose recall@<paramref name="k"/> reaches <paramref name="targetRecall"/> on a
    /// held-out sample of this collection's own vectors (each sampled vector is a query whose ground truth excludes
    /// itself; with the default sample size, the queries <see cref="TuneSearchOnQueries"/> kept, once it has been
    /// called), at the index's default search settings. 0 when the index is untrained or its codes are exact. Costs
    /// roughly <paramref name="sampleQueries"/> exact scans. <see cref="TuneSearch"/> also chooses the index's knob.
    /// </summary>
    public int TuneRerank(double targetRecall, int k = 10, int sampleQueries = TuningSampleQueries) =>
        TuneLocked(targetRecall, k, sampleQueries, null).Rerank;

    /// <summary>
    /// The fastest search settings reaching <paramref name="targetRecall"/> recall@<paramref name="k"/> on a held-out
    /// sample of this collection's own vectors: the re-rank depth and, unless given here (non-zero), the IVF lists
    /// probed; each candidate pair is timed on the sample. The HNSW beam width is <paramref name="ef"/> or the
    /// index's default: the sample queries are graph nodes, on which a narrow beam looks better than it is. When no
    /// setting reaches the target, the deepest depth at the smallest probe count within 0.005 of the best recall.
    /// With the default sample size the result is the one <see cref="SearchOptions.TargetRecall"/> searches use
    /// (tuned once per target, k, fixed knob and trained index), and once <see cref="TuneSearchOnQueries"/> has been
    /// called that tuning runs on the queries it kept instead of stored vectors, and tunes the HNSW beam as well.
    /// With exact codes (no compression) nothing is tuned: depth 0 and the knob as given. Costs roughly
    /// <paramref name="sampleQueries"/> exact scans plus a pass of the sample per knob value tried.
    /// </summary>
    public TunedSearchSettings TuneSearch(double targetRecall, int k = 10, int sampleQueries = TuningSampleQueries, int ef = 0, int nprobe = 0)
    {
        var t = TuneLocked(targetRecall, k, sampleQueries, new IndexSearchParameters { Ef = ef, NProbe = nprobe });
        return new TunedSearchSettings(t.Rerank, t.Ef, t.NProbe);
    }

    /// <summary>
    /// The fastest search settings reaching <paramref name="targetRecall"/> recall@<paramref name="k"/> on
    /// <paramref name="sampleQueries"/>, queries the caller gives (best a sample of recorded traffic, kept apart from
    /// any queries that judge the result), against the exact top-k of the live vectors. Unlike the stored-vector
    /// sample of <see cref="TuneSearch"/>, these queries are not graph nodes, so the HNSW
    /// beam is tuned too unless <paramref name="ef"/> fixes it; the re-rank depth and IVF lists probed as there. With
    /// exact codes (no compression) nothing is tuned: depth 0 and the knob as given, as for an untrained index.
    /// The result becomes the live generation's settings for <see cref="SearchOptions.TargetRecall"/> searches with
    /// the same target, k, ef and nprobe, so those searches do not tune on the request path. The collection keeps up
    /// to 200 of the queries (a seeded sample; in memory, not across a reopen) and tunes on them from then on: for
    /// other targets (on the request path, as any first search for a target), and in the background for the targets
    /// already asked when the live index changes (a retraining, rebalance, promotion or rollback). Costs one exact
    /// scan per sample query plus a pass of the sample per knob value tried, under the collection's read lock.
    /// </summary>
    public TunedSearchSettings TuneSearchOnQueries(double targetRecall, VectorMatrix sampleQueries, int k = 10, int ef = 0, int nprobe = 0)
    {
        ArgumentNullException.ThrowIfNull(sampleQueries);
        ValidateTuning(targetRecall, k, ef, nprobe);
        if (sampleQueries.Count == 0) throw new InvalidArgumentException("tuning needs at least one sample query");
        if (sampleQueries.Dimension != Options.Dimension) ThrowDim(sampleQueries.Dimension);
        var queries = new float[sampleQueries.Count][];
        for (int i = 0; i < queries.Length; i++)
        {
            queries[i] = new float[Options.Dimension];
            _search.PrepareQuery(sampleQueries.Row(i), queries[i], i);
        }
        var knob = new IndexSearchParameters { Ef = ef, NProbe = nprobe };
        Volatile.Write(ref _tuningQueries, Kept(queries));
        _lock.EnterReadLock();
        try
        {
            ThrowIfClosed();
            var g = _current;
            if (g.Index is null) return new TunedSearchSettings(0, 0, 0);
            var t = Tune(g, targetRecall, k, queries.Length, knob, queries);
            var tuned = new Lazy<TunedSearch>(() => t);
            _ = tuned.Value;
            g.TunedSearches[(targetRecall, k, ef, nprobe)] = tuned;
            return new TunedSearchSettings(t.Rerank, t.Ef, t.NProbe);
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>The queries to keep: all of them, or a seeded sample of <see cref="MaxRememberedTuningQueries"/>.</summary>
    private float[][] Kept(float[][] queries)
    {
        if (queries.Length <= MaxRememberedTuningQueries) return queries;
        var order = (float[][])queries.Clone();
        new Random(Options.Seed).Shuffle(order);
        return order[..MaxRememberedTuningQueries];
    }

    private static void ValidateTuning(double targetRecall, int k, int ef, int nprobe)
    {
        if (!(targetRecall is > 0 and <= 1)) throw new InvalidArgumentException($"target recall must be in (0, 1], got {targetRecall}");
        if (k is <= 0 or > SearchOptions.MaxK) throw new InvalidArgumentException($"k must be in 1..{SearchOptions.MaxK}, got {k}");
        if (ef < 0 || nprobe < 0) throw new InvalidArgumentException($"ef and nprobe must be non-negative, got {ef} and {nprobe}");
    }

    /// <summary>The knob values an index uses when a search leaves them 0: given to the tuner, only the depth is tuned.</summary>
    private static IndexSearchParameters DefaultKnob(VectorIndex? index) =>
        new() { Ef = HnswIndex.DefaultEf, NProbe = index is IvfIndex ivf ? ivf.DefaultNProbe : 0 };

    /// <summary>Tunes on the live generation; a null <paramref name="knob"/> means its index's defaults.</summary>
    private TunedSearch TuneLocked(double targetRecall, int k, int sampleQueries, IndexSearchParameters? knob)
    {
        ValidateTuning(targetRecall, k, knob?.Ef ?? 0, knob?.NProbe ?? 0);
        if (sampleQueries <= 0) throw new InvalidArgumentException($"sample queries must be positive, got {sampleQueries}");
        _lock.EnterReadLock();
        try
        {
            ThrowIfClosed();
            var g = _current;
            var fixedKnob = knob ?? DefaultKnob(g.Index);
            return sampleQueries == TuningSampleQueries ? Tuned(g, targetRecall, k, fixedKnob) : Tune(g, targetRecall, k, sampleQueries, fixedKnob);
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>
    /// Generation <paramref name="g"/>'s settings for the target, tuned by the first caller: concurrent first
    /// searches wait for that one tuning instead of each running (and timing) their own. A tuning that throws is
    /// not kept, so the next caller tries again.
    /// </summary>
    private TunedSearch Tuned(Generation g, double target, int k, IndexSearchParameters knob)
    {
        var key = (target, k, knob.Ef, knob.NProbe);
        var lazy = g.TunedSearches.GetOrAdd(key, _ => new Lazy<TunedSearch>(() => Tune(g, target, k, TuningSampleQueries, knob, Volatile.Read(ref _tuningQueries))));
        try
        {
            return lazy.Value;
        }
        catch
        {
            g.TunedSearches.TryRemove(new KeyValuePair<(double, int, int, int), Lazy<TunedSearch>>(key, lazy));
            throw;
        }
    }

    private TunedSearch Tune(Generation g, double target, int k, int sampleQueries, IndexSearchParameters knob, float[][]? queries = null) =>
        g.Index is null
            ? new TunedSearch(0, knob.Ef, knob.NProbe)
            : SearchTuner.Tune(g.Index, _raw, _slots.LiveSlots(), Options.Metric.ToDistanceKind(), target, k, sampleQueries, Options.Seed, knob, Parallelism(0), queries);

    /// <summary>
    /// Drops <paramref name="g"/>'s tunings, whose index changed under them (a retraining or rebalance), and tunes
    /// it again in the background; the caller holds the write lock.
    /// </summary>
    private void RetuneLocked(Generation g)
    {
        var keys = g.TunedSearches.Keys.ToArray();
        g.TunedSearches.Clear();
        RetuneInBackground(g, keys);
    }

    /// <summary>
    /// Tunes live generation <paramref name="g"/> on a background task for the targets searches asked of the index it
    /// replaced (<paramref name="keys"/>) that it holds no settings for, so the next
    /// <see cref="SearchOptions.TargetRecall"/> search finds them ready instead of tuning on the request path. A
    /// search arriving first waits for that same tuning (one Lazy per key). A generation made live again by a rollback
    /// keeps the settings it had. Stops when <paramref name="g"/> is no longer live or the collection closes; a tuning
    /// that fails is dropped, and the next search that asks tunes again and sees the error. Each tuning holds the
    /// read lock while it runs, as a tuning on the request path does.
    /// </summary>
    private void RetuneInBackground(Generation g, IReadOnlyCollection<(double Target, int K, int Ef, int NProbe)> keys)
    {
        if (keys.Count == 0) return;
        // Not a child of the caller's trace span or async context: it outlives the operation that started it.
        using var detached = ExecutionContext.SuppressFlow();
        _ = Task.Run(() =>
        {
            foreach (var key in keys)
            {
                _lock.EnterReadLock();
                try
                {
                    if (_closed || _current != g || g.Index is null) return;
                    Tuned(g, key.Target, key.K, new IndexSearchParameters { Ef = key.Ef, NProbe = key.NProbe });
                }
                catch (Exception)
                {
                    // Nobody waits for this task: Tuned removed the failed entry, and the next search that asks
                    // tunes again on the request path and reports the error to its caller.
                }
                finally { _lock.ExitReadLock(); }
            }
        });
    }

    /// <summary>Whether the live generation holds finished settings for the target (tests watch the background tuning with it).</summary>
    internal bool HasTunedSearch(double target, int k = 10, int ef = 0, int nprobe = 0)
    {
        _lock.EnterReadLock();
        try
        {
            return _current.TunedSearches.TryGetValue((target, k, ef, nprobe), out var t) && t.IsValueCreated;
        }
        finally { _lock.ExitReadLock(); }
    }
}
