using System.Diagnostics;
using VectorStore.Collections;
using VectorStore.Ranking;

namespace VectorStore.Evaluation;

/// <summary>
/// Builds an in-memory collection from base vectors (ids = row numbers) and measures searches on it: the shared
/// engine behind <c>eval</c>, <c>demo</c> and <c>report</c>.
/// </summary>
public sealed class EvalRunner
{
    private EvalRunner(Collection collection, EvalSettings settings, double buildSeconds, VectorDatabase db)
    {
        Collection = collection;
        Settings = settings;
        BuildSeconds = buildSeconds;
        _db = db;
    }

    private readonly VectorDatabase _db;

    /// <summary>The built collection.</summary>
    public Collection Collection { get; }

    /// <summary>Settings used.</summary>
    public EvalSettings Settings { get; }

    /// <summary>
    /// The re-rank depth searches at the settings' own point use: <see cref="EvalSettings.Rerank"/>, or the tuned
    /// depth for <see cref="EvalSettings.TargetRecall"/>.
    /// </summary>
    public int EffectiveRerank => RerankAt(Resolve(Settings.DefaultPoint));

    private readonly Dictionary<SweepPoint, TunedSearchSettings> _tuned = [];

    /// <summary>
    /// With <see cref="EvalSettings.TargetRecall"/> (and no <see cref="EvalSettings.Rerank"/>): the settings tuned for
    /// <paramref name="point"/>, its knob fixed when it names one (<c>ef</c>, <c>nprobe</c>), else the settings' own
    /// (0: tuned too). Null without a target, or for a <c>rerank</c> point, which names its depth itself.
    /// </summary>
    private TunedSearchSettings? TunedFor(SweepPoint point)
    {
        if (Settings.Rerank > 0 || Settings.TargetRecall <= 0 || point.Name == "rerank") return null;
        lock (_tuned)
        {
            if (_tuned.TryGetValue(point, out var t)) return t;
            int ef = point.Name == "ef" ? point.Value : Settings.Ef, nprobe = point.Name == "nprobe" ? point.Value : Settings.NProbe;
            t = Settings.TuneQueries is { } queries
                ? Collection.TuneSearchOnQueries(Settings.TargetRecall, queries, Settings.K, ef, nprobe)
                : Collection.TuneSearch(Settings.TargetRecall, Settings.K, ef: ef, nprobe: nprobe);
            _tuned[point] = t;
            // The point it resolves to has the same settings: no second tuning for it.
            _tuned.TryAdd(Resolved(point, t), t);
            return t;
        }
    }

    /// <summary>
    /// The point a search runs at: for a <c>none</c> point with <see cref="EvalSettings.TargetRecall"/>, the knob value
    /// the tuning chose (IVF nprobe, HNSW ef); any other point as given.
    /// </summary>
    public SweepPoint Resolve(SweepPoint point) => point.Name == "none" && TunedFor(point) is { } t ? Resolved(point, t) : point;

    private static SweepPoint Resolved(SweepPoint point, TunedSearchSettings t) =>
        t.NProbe > 0 ? new SweepPoint("nprobe", t.NProbe) : t.Ef > 0 ? new SweepPoint("ef", t.Ef) : point;

    /// <summary>Wall time of insert + training + index construction.</summary>
    public double BuildSeconds { get; }

    /// <summary>Inserts every row of <paramref name="baseVectors"/> and trains the codec and index on them.</summary>
    public static EvalRunner Build(VectorMatrix baseVectors, EvalSettings settings)
    {
        VectorDatabase db;
        string? dir = null;
        if (settings.RawVectors == RawVectorResidency.Disk)
        {
            dir = Path.Combine(Path.GetTempPath(), $"vectorstore-eval-{Guid.NewGuid():N}");
            db = VectorDatabase.Open(dir, settings.Database);
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                try
                {
                    db.Dispose();
                    System.IO.Directory.Delete(dir, recursive: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or VectorStoreException) { }
            };
        }
        else db = VectorDatabase.CreateInMemory(settings.Database);
        var collection = db.CreateCollection("eval", new CollectionOptions
        {
            RawVectors = settings.RawVectors,
            Dimension = baseVectors.Dimension,
            Metric = settings.Metric,
            Compression = settings.Compression,
            Index = settings.Index,
            TrainingThreshold = int.MaxValue,
            Seed = settings.Seed,
            Fields = settings.Fields,
            Refine = settings.Refine,
        });
        if (settings.FieldValues is { } fv && fv.Count != baseVectors.Count)
            throw new InvalidArgumentException($"{fv.Count} rows of field values for {baseVectors.Count} base vectors");
        var sw = Stopwatch.StartNew();
        const int batch = 10_000;
        for (int start = 0; start < baseVectors.Count; start += batch)
        {
            int n = Math.Min(batch, baseVectors.Count - start);
            var ids = new ulong[n];
            for (int i = 0; i < n; i++) ids[i] = (ulong)(start + i);
            var fields = settings.FieldValues is { } values
                ? Enumerable.Range(start, n).Select(i => (IReadOnlyDictionary<string, Filtering.FieldValue>?)values[i]).ToArray()
                : null;
            collection.UpsertBatch(ids, baseVectors.Slice(start, n), null, fields);
        }
        collection.BuildIndex();
        double buildSeconds = sw.Elapsed.TotalSeconds;
        if (dir is not null)
        {
            // Disk residency: seal every vector into segments, so searches read them from the mapping, not the buffer;
            // then reopen, so what is measured is what a database serving these files holds, not the build's leftovers
            // (index arrays grown with slack, the runtime's heap after the load): measured right after the build,
            // sq8 + hnsw:16 on the text set read 1,264 bytes per vector against about 776 in a settled `serve`.
            db.Compact("eval");
            buildSeconds = sw.Elapsed.TotalSeconds; // the reopen is not part of building
            db.Dispose();
            db = VectorDatabase.Open(dir, settings.Database);
            collection = db.GetCollection("eval");
        }
        var runner = new EvalRunner(collection, settings, buildSeconds, db);
        return runner;
    }

    /// <summary>Searches every query once for recall and latency, then repeatedly for throughput.</summary>
    public EvalPoint Measure(VectorMatrix queries, IReadOnlyList<int[]> truth, SweepPoint point, SearchFilter? filter = null) =>
        MeasureOnThreads(queries, truth, point, filter, 0);

    /// <summary>
    /// <see cref="Measure(VectorMatrix, IReadOnlyList{int[]}, SweepPoint, SearchFilter?)"/> on <paramref name="threads"/>
    /// threads instead of the settings' count (0: the settings' count).
    /// </summary>
    public EvalPoint MeasureOnThreads(VectorMatrix queries, IReadOnlyList<int[]> truth, SweepPoint point, SearchFilter? filter, int threads)
    {
        var options = SearchOptionsAt(point, filter);
        int nq = queries.Count;
        var results = new long[nq][];
        var latencies = new double[nq];
        threads = threads > 0 ? threads : EvalSettings.Resolve(Settings.Threads);
        var po = new ParallelOptions { MaxDegreeOfParallelism = threads };
        // Recall + latency pass (also the warm-up).
        long reads0 = Collection.Vectors.DiskReads;
        var stats = new Telemetry.SearchStats[nq];
        Parallel.For(0, nq, po, i =>
        {
            long t0 = Stopwatch.GetTimestamp();
            var hits = Collection.Search(queries.Row(i), options);
            latencies[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            stats[i] = Collection.LastSearchStats; // this thread's, of this search
            results[i] = hits.Select(h => (long)h.Id).ToArray();
        });
        double recall = Recall.AtK(results, truth, Settings.K);
        var plans = new Dictionary<string, int>(StringComparer.Ordinal);
        long matches = 0, fullPrecisionReads = 0;
        foreach (var st in stats)
        {
            fullPrecisionReads += st.Reranked;
            if (filter is null) continue;
            string plan = st.Plan.ToString().ToLowerInvariant();
            plans[plan] = plans.GetValueOrDefault(plan) + 1;
            matches += st.Matches;
        }
        double diskReads = nq == 0 ? 0 : (double)(Collection.Vectors.DiskReads - reads0) / nq;
        // Throughput: whole passes over the query set until MinSeconds have elapsed.
        long done = 0;
        var sw = Stopwatch.StartNew();
        var lat = new List<double>(nq * 4);
        do
        {
            if (threads == 1)
            {
                for (int i = 0; i < nq; i++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    Collection.Search(queries.Row(i), options);
                    lat.Add(Stopwatch.GetElapsedTime(t0).TotalMicroseconds);
                }
            }
            else
            {
                Parallel.For(0, nq, po, i => Collection.Search(queries.Row(i), options));
            }
            done += nq;
        } while (sw.Elapsed.TotalSeconds < Settings.MinSeconds);
        double qps = done / sw.Elapsed.TotalSeconds;
        var all = lat.Count > 0 ? lat.ToArray() : latencies;
        Array.Sort(all);
        return new EvalPoint
        {
            Recall = recall,
            Qps = qps,
            P50Us = Percentile(all, 0.50),
            P99Us = Percentile(all, 0.99),
            Results = results,
            DiskReadsPerQuery = diskReads,
            FilterPlans = plans,
            FilterMatches = nq == 0 ? 0 : (double)matches / nq,
            FullPrecisionReadsPerQuery = nq == 0 ? 0 : (double)fullPrecisionReads / nq,
        };
    }

    /// <summary>
    /// Recall and throughput of <see cref="Collection.SearchBatch"/>: the whole query set in one call on
    /// <paramref name="threads"/> threads (0: the settings' count), repeated for at least the settings' seconds and three
    /// calls; the QPS is the fastest call's (as FAISS's batched <c>search(nq, …)</c> is timed in <c>bench/native/batch.cpp</c>).
    /// </summary>
    public (double Recall, double Qps) MeasureBatch(VectorMatrix queries, IReadOnlyList<int[]> truth, SweepPoint point, int threads, SearchFilter? filter = null)
    {
        var options = SearchOptionsAt(point, filter);
        threads = threads > 0 ? threads : EvalSettings.Resolve(Settings.Threads);
        var first = Collection.SearchBatch(queries, options, threads); // recall pass, also the warm-up
        double recall = Recall.AtK(first.Select(hits => hits.Select(h => (long)h.Id).ToArray()).ToArray(), truth, Settings.K);
        double best = 0;
        var sw = Stopwatch.StartNew();
        for (int calls = 0; calls < 3 || sw.Elapsed.TotalSeconds < Settings.MinSeconds; calls++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Collection.SearchBatch(queries, options, threads);
            best = Math.Max(best, queries.Count / Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        return (recall, best);
    }

    private SearchOptions SearchOptionsAt(SweepPoint point, SearchFilter? filter) => new()
    {
        K = Settings.K,
        Rerank = RerankAt(point),
        Ef = point.Name == "ef" ? point.Value : 0,
        NProbe = point.Name == "nprobe" ? point.Value : 0,
        Filter = filter,
    };

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    /// <summary>Resident bytes of codes + index per vector.</summary>
    public double BytesPerVector
    {
        get
        {
            var s = Collection.GetStats();
            return s.Count == 0 ? 0 : (double)s.IndexBytes / s.Count;
        }
    }

    /// <summary>Bytes of full-precision vectors per vector when re-ranking uses them, else 0.</summary>
    public double RerankBytesPerVector => RerankBytesPerVectorAt(Settings.DefaultPoint);

    /// <summary>
    /// The re-rank depth a search at <paramref name="point"/> uses: its own for a <c>rerank=</c> point, the depth tuned
    /// for the point with <see cref="EvalSettings.TargetRecall"/>, else <see cref="EvalSettings.Rerank"/>.
    /// </summary>
    public int RerankAt(SweepPoint point) => point.Name == "rerank" ? point.Value : TunedFor(point)?.Rerank ?? Settings.Rerank;

    /// <summary>
    /// Bytes of full-precision vectors per vector held in RAM for re-ranking at <paramref name="point"/>: the
    /// dimension × 4 when it re-ranks from resident vectors, 0 when it does not re-rank or reads them from disk.
    /// </summary>
    public double RerankBytesPerVectorAt(SweepPoint point) =>
        RerankAt(point) > 0 && Collection.Options.RawVectors == RawVectorResidency.Ram ? Collection.Options.Dimension * sizeof(float) : 0;

    /// <summary>
    /// A seeded random subset of the base ids, of fraction <paramref name="fraction"/>, and the exact
    /// filtered ground truth for <paramref name="queries"/>, computed on <paramref name="threads"/> threads (0 = all cores).
    /// </summary>
    public static (HashSet<ulong> Ids, int[][] Truth) FilteredTruth(VectorMatrix baseVectors, VectorMatrix queries, Metric metric, double fraction, int seed, int k,
        int threads = 0)
    {
        if (fraction is <= 0 or > 1) throw new InvalidArgumentException($"--filter-fraction must be in (0, 1], got {fraction}");
        var rng = new Random(seed);
        var allowed = new bool[baseVectors.Count];
        var ids = new HashSet<ulong>();
        for (int i = 0; i < allowed.Length; i++)
        {
            if (rng.NextDouble() < fraction)
            {
                allowed[i] = true;
                ids.Add((ulong)i);
            }
        }
        var (b, q) = metric == Metric.Cosine ? (Normalized(baseVectors), Normalized(queries)) : (baseVectors, queries);
        var truth = GroundTruth.Compute(b, q, k, metric.ToDistanceKind(), threads, i => allowed[i]);
        return (ids, truth);
    }

    /// <summary>
    /// Exact filtered ground truth: the top-<paramref name="k"/> of each query among the base rows
    /// <paramref name="allowed"/> admits (fewer when fewer match).
    /// </summary>
    public static int[][] FilteredTruth(VectorMatrix baseVectors, VectorMatrix queries, Metric metric, Func<int, bool> allowed, int k, int threads = 0)
    {
        var (b, q) = metric == Metric.Cosine ? (Normalized(baseVectors), Normalized(queries)) : (baseVectors, queries);
        return GroundTruth.Compute(b, q, k, metric.ToDistanceKind(), threads, allowed);
    }

    /// <summary>A unit-length copy of every row.</summary>
    public static VectorMatrix Normalized(VectorMatrix m)
    {
        var copy = new VectorMatrix((float[])m.Data.Clone(), m.Dimension);
        for (int i = 0; i < copy.Count; i++) Distance.Distances.Normalize(copy[i]);
        return copy;
    }

    /// <summary>Exact top-<paramref name="k"/> of every query under <paramref name="metric"/>, on <paramref name="threads"/> threads (0 = all cores).</summary>
    public static int[][] ExactTruth(VectorMatrix baseVectors, VectorMatrix queries, Metric metric, int k, int threads = 0)
    {
        var (b, q) = metric == Metric.Cosine ? (Normalized(baseVectors), Normalized(queries)) : (baseVectors, queries);
        return GroundTruth.Compute(b, q, k, metric.ToDistanceKind(), threads);
    }
}
