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

    /// <summary>
    /// The caller's last tuning queries (prepared), or null: later tunings run on them instead of stored vectors. A
    /// new set is a new array (the snapshot writes a new tuning queries file when the reference changes).
    /// </summary>
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
    /// to 200 of the queries (a seeded sample) and tunes on them from then on: for other targets (on the request path,
    /// as any first search for a target), and in the background for the targets already asked when the live index
    /// changes (a retraining, rebalance, promotion or rollback). Costs one exact scan per sample query plus a pass of
    /// the sample per knob value tried, taking the collection's read lock per unit of work (a slice of one exact scan,
    /// one query's candidates, one timed query), so writes go on meanwhile. On a database directory it then writes a
    /// checkpoint, so the kept queries and every finished tuning survive a restart (settings tuned later, by searches
    /// or in the background, reach the next checkpoint); a failed checkpoint is logged, and the tuning holds in this
    /// process.
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
        NoteTuningKept(); // the new queries are due for a snapshot even if the tuning below fails
        var key = (targetRecall, k, ef, nprobe);
        var t = TuneLive(g => Tune(g, targetRecall, k, queries.Length, knob, queries), (g, tuned) =>
        {
            g.TunedSearches[key] = new Lazy<TunedSearch>(tuned);
            NoteTuningKept();
        });
        PersistTuning();
        return new TunedSearchSettings(t.Rerank, t.Ef, t.NProbe);
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
        return TuneLive(g =>
        {
            var fixedKnob = knob ?? DefaultKnob(g.Index);
            return sampleQueries == TuningSampleQueries ? Tuned(g, targetRecall, k, fixedKnob) : Tune(g, targetRecall, k, sampleQueries, fixedKnob);
        });
    }

    /// <summary>
    /// Runs <paramref name="tune"/> on the live generation without holding the lock (the tuner takes it per unit of
    /// work), then, under the read lock, hands the result to <paramref name="keep"/> if the live generation and its
    /// index are still the ones tuned. When they changed meanwhile, tunes again; after a few such tries, under the read
    /// lock throughout, so a collection retrained in a loop still gets an answer.
    /// </summary>
    private TunedSearch TuneLive(Func<Generation, TunedSearch> tune, Action<Generation, TunedSearch>? keep = null)
    {
        for (int attempt = 0; attempt < 3; attempt++)
        {
            Generation g;
            VectorIndex? index;
            int epoch;
            _lock.EnterReadLock();
            try
            {
                ThrowIfClosed();
                (g, index, epoch) = (_current, _current.Index, _current.TuningEpoch);
            }
            finally { _lock.ExitReadLock(); }
            try
            {
                var t = tune(g);
                _lock.EnterReadLock();
                try
                {
                    ThrowIfClosed();
                    if (_current != g || g.Index != index || g.TuningEpoch != epoch) continue; // tuned an index no search uses
                    keep?.Invoke(g, t);
                    return t;
                }
                finally { _lock.ExitReadLock(); }
            }
            catch (TuningAbandonedException)
            {
                Interlocked.Increment(ref _tuningsAbandoned);
            }
        }
        _lock.EnterReadLock();
        try
        {
            ThrowIfClosed();
            t_tuningUnderLock = true;
            var t = tune(_current);
            keep?.Invoke(_current, t);
            return t;
        }
        finally
        {
            t_tuningUnderLock = false;
            _lock.ExitReadLock();
        }
    }

    private long _tuningsAbandoned;

    /// <summary>Tunings given up because their index changed under them (tests check that a replacement was seen).</summary>
    internal long TuningsAbandoned => Interlocked.Read(ref _tuningsAbandoned);

    /// <summary>
    /// Set while this thread tunes inside the read lock (<see cref="TuneLive"/>'s last try, a search whose
    /// generation has no finished settings): the tuner then reads under that lock instead of taking it per unit.
    /// </summary>
    [ThreadStatic] private static bool t_tuningUnderLock;

    /// <summary>
    /// Tunes the live generation for a <see cref="SearchOptions.TargetRecall"/> search before it takes the read lock,
    /// so the tuning (seconds on a large collection) takes the lock per unit of work and writers are not held off
    /// for all of it; the search then finds the settings ready. Nothing happens when the search sets its depth or the
    /// settings exist. A tuning abandoned because the live index changed leaves it to the search.
    /// </summary>
    private void PrepareTargetRecall(SearchOptions options, Generation? generation = null)
    {
        if (options.TargetRecall <= 0 || options.Rerank != 0) return;
        // Without the lock, a guess of the generation the search will use: a wrong guess only tunes one too many.
        var g = generation ?? Serving(options);
        if (g.Index is not { } index || index.Codec.EstimatesAreExact) return;
        try
        {
            Tuned(g, options.TargetRecall, options.K, new IndexSearchParameters { Ef = options.Ef, NProbe = options.NProbe });
        }
        catch (TuningAbandonedException)
        {
            // Replaced meanwhile: the search tunes the index it finds, under its lock (TunedForSearch).
            Interlocked.Increment(ref _tuningsAbandoned);
        }
    }

    /// <summary>
    /// The settings a search holding the read lock uses for generation <paramref name="g"/> (the pipeline's tuning
    /// source): finished ones, else a tuning run right here under the caller's lock. It never waits for a tuning that
    /// another thread runs: that one takes the lock per unit of work, and behind a waiting writer it could not get
    /// it back while this search holds the lock and waits for it.
    /// </summary>
    private TunedSearch TunedForSearch(Generation g, double target, int k, IndexSearchParameters knob)
    {
        t_tuningUnderLock = true;
        try
        {
            return Tuned(g, target, k, knob);
        }
        finally { t_tuningUnderLock = false; }
    }

    /// <summary>
    /// Generation <paramref name="g"/>'s settings for the target, tuned by the first caller: concurrent first
    /// searches wait for that one tuning instead of each running (and timing) their own. A tuning that throws is
    /// not kept, so the next caller tries again. Inside the read lock (<see cref="t_tuningUnderLock"/>) a caller
    /// takes finished settings or tunes on its own, never waiting for another thread's tuning.
    /// </summary>
    private TunedSearch Tuned(Generation g, double target, int k, IndexSearchParameters knob)
    {
        var key = (target, k, knob.Ef, knob.NProbe);
        // Every target-recall search passes here twice (before the lock and under it): the finished case allocates nothing.
        if (g.TunedSearches.TryGetValue(key, out var ready) && ready.IsValueCreated) return ready.Value;
        return t_tuningUnderLock ? TunedUnderLock(g, key) : TunedOnce(g, key);
    }

    private TunedSearch TunedUnderLock(Generation g, (double Target, int K, int Ef, int NProbe) key)
    {
        var t = TuneFor(g, key);
        // Counted once visible: a snapshot between the two would count it without finding it.
        if (g.TunedSearches.TryAdd(key, new Lazy<TunedSearch>(t))) NoteTuningKept();
        return t;
    }

    private TunedSearch TunedOnce(Generation g, (double Target, int K, int Ef, int NProbe) key)
    {
        bool mine = false;
        var lazy = g.TunedSearches.GetOrAdd(key, _ => new Lazy<TunedSearch>(() =>
        {
            mine = true;
            return TuneFor(g, key);
        }));
        try
        {
            var t = lazy.Value;
            // Counted once visible (IsValueCreated), by the caller whose factory ran.
            if (mine) NoteTuningKept();
            return t;
        }
        catch
        {
            g.TunedSearches.TryRemove(new KeyValuePair<(double, int, int, int), Lazy<TunedSearch>>(key, lazy));
            throw;
        }
    }

    /// <summary>A tuning of <paramref name="g"/> for one settings key, on the caller's kept queries or stored vectors.</summary>
    private TunedSearch TuneFor(Generation g, (double Target, int K, int Ef, int NProbe) key) =>
        Tune(g, key.Target, key.K, TuningSampleQueries, new IndexSearchParameters { Ef = key.Ef, NProbe = key.NProbe }, Volatile.Read(ref _tuningQueries));

    /// <summary>
    /// Tunes generation <paramref name="g"/>'s index. Outside the lock (the usual case) the tuner takes the read lock
    /// per unit of work and gives up (<see cref="TuningAbandonedException"/>) once the index changes under it
    /// (<see cref="LockPerUnitAccess"/>); inside it (<see cref="t_tuningUnderLock"/>) it reads under the caller's lock
    /// throughout.
    /// </summary>
    private TunedSearch Tune(Generation g, double target, int k, int sampleQueries, IndexSearchParameters knob, float[][]? queries = null)
    {
        if (t_tuningUnderLock)
        {
            return g.Index is not { } held
                ? new TunedSearch(0, knob.Ef, knob.NProbe)
                : SearchTuner.Tune(held, _raw, _slots.LiveSlots(), new HeldLockAccess(_slots), Options.Metric.ToDistanceKind(), target, k, sampleQueries, Options.Seed, knob, Parallelism(0), queries);
        }
        using var unit = new LockPerUnitAccess(this, g);
        VectorIndex? index;
        int[] live;
        unit.Enter();
        try
        {
            // In the unit that starts the change list: every write after this listing is on it.
            index = unit.Index;
            live = index is null ? [] : _slots.LiveSlots();
        }
        finally { unit.Exit(); }
        return index is null
            ? new TunedSearch(0, knob.Ef, knob.NProbe)
            : SearchTuner.Tune(index, _raw, live, unit, Options.Metric.ToDistanceKind(), target, k, sampleQueries, Options.Seed, knob, Parallelism(0), queries);
    }

    /// <summary>The change lists of the tunings running outside the lock (replaced, not changed, when one starts or ends).</summary>
    private SlotChanges[] _tuningChanges = [];

    private readonly Lock _tuningChangesGate = new();

    /// <summary>Puts <paramref name="slot"/> on every running tuning's change list; the caller holds the write lock.</summary>
    private void NoteChangedForTunings(int slot)
    {
        foreach (var changes in Volatile.Read(ref _tuningChanges)) changes.Note(slot);
    }

    private void WatchChanges(SlotChanges changes, bool watch)
    {
        lock (_tuningChangesGate)
            Volatile.Write(ref _tuningChanges, watch ? [.. _tuningChanges, changes] : _tuningChanges.Where(c => c != changes).ToArray());
    }

    private long _tuningUnits;

    /// <summary>Runs before each unit of a tuning takes the lock (tests pause a tuning between units with it).</summary>
    internal Action? BeforeTuningUnit { get; set; }

    /// <summary>Units of tuning work run under the lock taken per unit (tests watch a tuning progress with it).</summary>
    internal long TuningUnits => Interlocked.Read(ref _tuningUnits);

    /// <summary>
    /// The tuner's access from outside the lock: the read lock per unit, while <c>g</c> receives writes and keeps the
    /// index and tuning epoch it had at the first unit (a retraining, rebalance, or drop abandons the tuning). From the
    /// first unit until disposed, the collection's writes put their slots on <see cref="Changed"/>; more than
    /// <see cref="SlotChanges.Limit"/> of them abandon the tuning too.
    /// </summary>
    private sealed class LockPerUnitAccess(Collection owner, Generation g) : ITuningAccess, IDisposable
    {
        private bool _started;
        private bool _watching;
        private int _epoch;

        public SlotChanges Changed { get; } = new();

        /// <summary>The index being tuned (taken at the first <see cref="Enter"/>).</summary>
        public VectorIndex? Index { get; private set; }

        public void Enter()
        {
            owner.BeforeTuningUnit?.Invoke();
            owner._lock.EnterReadLock();
            Interlocked.Increment(ref owner._tuningUnits);
            if (owner._closed)
            {
                owner._lock.ExitReadLock();
                throw new ObjectDisposedException(owner.GetType().FullName);
            }
            if (!_started)
            {
                _started = true;
                Index = g.Index;
                _epoch = g.TuningEpoch;
            }
            // Past the limit, a fresh start (a new listing of the live slots) costs less than re-scoring the changes.
            if (!g.Attached || g.Index != Index || g.TuningEpoch != _epoch || Changed.Count > SlotChanges.Limit)
            {
                owner._lock.ExitReadLock();
                throw new TuningAbandonedException();
            }
            if (!_watching)
            {
                // Under the read lock: no write falls between the caller's listing of the live slots and the watch.
                _watching = true;
                owner.WatchChanges(Changed, watch: true);
            }
        }

        public void Exit() => owner._lock.ExitReadLock();

        public bool IsLive(int slot) => owner._slots.IsLive(slot);

        public void Dispose()
        {
            if (_watching) owner.WatchChanges(Changed, watch: false);
        }
    }

    /// <summary>The tuner's access inside a lock its caller holds (and keeps until the tuning ends): nothing to take.</summary>
    private sealed class HeldLockAccess(SlotTable slots) : ITuningAccess
    {
        public SlotChanges Changed { get; } = new();

        public void Enter() { }

        public void Exit() { }

        public bool IsLive(int slot) => slots.IsLive(slot);
    }

    /// <summary>
    /// Drops <paramref name="g"/>'s tunings, whose index changed under them (a retraining or rebalance), and tunes
    /// it again in the background; the caller holds the write lock.
    /// </summary>
    private void RetuneLocked(Generation g)
    {
        var keys = g.TunedSearches.Keys.ToArray();
        g.TuningEpoch++;
        g.TunedSearches.Clear();
        RetuneInBackground(g, keys);
    }

    /// <summary>
    /// Tunes live generation <paramref name="g"/> on a background task for the targets searches asked of the index it
    /// replaced (<paramref name="keys"/>) that it holds no settings for, so the next
    /// <see cref="SearchOptions.TargetRecall"/> search finds them ready instead of tuning on the request path. A
    /// search arriving first waits for that same tuning (one Lazy per key). A generation made live again by a rollback
    /// keeps the settings it had. Stops when <paramref name="g"/> is no longer live or the collection closes; a tuning
    /// that fails is dropped, and the next search that asks tunes again and sees the error. Each tuning takes the
    /// read lock per unit of work, so writers go on meanwhile.
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
                if (_closed || Volatile.Read(ref _current) != g) return;
                try
                {
                    Tuned(g, key.Target, key.K, new IndexSearchParameters { Ef = key.Ef, NProbe = key.NProbe });
                }
                catch (Exception)
                {
                    // Nobody waits for this task: Tuned removed the failed entry (or the index was replaced, and
                    // this generation is no longer live), and the next search that asks tunes again and reports
                    // the error to its caller.
                }
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
