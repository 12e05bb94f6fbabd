using System.Diagnostics;
using VectorStore.Collections;
using VectorStore.Distance;
using VectorStore.Quantization;

namespace VectorStore.Evaluation;

/// <summary>Settings shared by every variant of a report, with their defaults.</summary>
public sealed record ReportOptions
{
    /// <summary>Metric of every collection. Default cosine.</summary>
    public Metric Metric { get; init; } = Metric.Cosine;

    /// <summary>Index spec every variant runs on. Default <c>flat</c>.</summary>
    public string Index { get; init; } = "flat";

    /// <summary>k of the timed search. Default 10.</summary>
    public int K { get; init; } = 10;

    /// <summary>Re-rank depth for every variant (0 = none). Default 0.</summary>
    public int Rerank { get; init; }

    /// <summary>HNSW beam width (0 = index default).</summary>
    public int Ef { get; init; }

    /// <summary>IVF lists probed (0 = index default).</summary>
    public int NProbe { get; init; }

    /// <summary>Threads of the all-threads pass and of building (0 = all cores).</summary>
    public int Threads { get; init; }

    /// <summary>Seed of every training step. Default 42.</summary>
    public int Seed { get; init; } = 42;
}

/// <summary>
/// Runs compression variants under identical conditions — same data, index, k, re-rank depth and threads — and
/// measures quality (recall@1/10/100, nDCG@10, score calibration), serving cost (latency, QPS at 1 and all threads)
/// and model cost (bytes, training and encoding time, memory). One variant runs at a time so timings do not
/// interfere; not thread-safe.
/// </summary>
public sealed class ReportRunner
{
    private readonly VectorMatrix _base;
    private readonly VectorMatrix _queries;
    private readonly VectorMatrix _preparedBase;
    private readonly VectorMatrix _preparedQueries;
    private readonly int[][] _truth;
    private readonly ReportOptions _options;

    /// <summary>
    /// Prepares a run. Row i of <paramref name="baseVectors"/> gets id i; <paramref name="truth"/> holds, per query, base
    /// rows nearest first (at least 100 for recall@100); null computes it exactly.
    /// </summary>
    public ReportRunner(VectorMatrix baseVectors, VectorMatrix queries, int[][]? truth, ReportOptions options)
    {
        if (baseVectors.Dimension != queries.Dimension)
            throw new InvalidArgumentException($"base dimension {baseVectors.Dimension} differs from query dimension {queries.Dimension}");
        if (baseVectors.Count == 0 || queries.Count == 0) throw new InvalidArgumentException("base and query files must not be empty");
        if (options.K is <= 0 or > 100) throw new InvalidArgumentException($"k must be in 1..100, got {options.K}");
        _base = baseVectors;
        _queries = queries;
        _options = options;
        _preparedBase = Prepare(baseVectors, options.Metric);
        _preparedQueries = Prepare(queries, options.Metric);
        var kind = options.Metric.ToDistanceKind();
        if (truth is null)
        {
            truth = GroundTruth.Compute(_preparedBase, _preparedQueries, Math.Min(100, baseVectors.Count), kind, options.Threads);
        }
        else
        {
            if (truth.Length < queries.Count)
                throw new InvalidArgumentException($"ground truth has {truth.Length} rows for {queries.Count} queries");
            foreach (var row in truth)
                foreach (var id in row)
                    if ((uint)id >= (uint)baseVectors.Count)
                        throw new InvalidArgumentException($"ground truth names base row {id}, but the base has {baseVectors.Count} rows");
        }
        _truth = truth;
    }

    private static VectorMatrix Prepare(VectorMatrix m, Metric metric)
    {
        if (metric != Metric.Cosine) return m;
        var copy = new VectorMatrix((float[])m.Data.Clone(), m.Dimension);
        for (int i = 0; i < copy.Count; i++) Distances.Normalize(copy[i]);
        return copy;
    }

    /// <summary>Runs every variant in order; a variant that fails (unknown spec, bad argument) yields a row with <see cref="ReportRow.Error"/>.</summary>
    public IEnumerable<ReportRow> Run(IEnumerable<string> variants, IProgress<string>? log = null)
    {
        foreach (var v in variants)
        {
            ReportRow row;
            try
            {
                CodecRegistry.Validate(CompressionSpec.Parse(v));
                log?.Report($"variant {v}: building");
                row = RunVariant(v, log);
            }
            catch (InvalidArgumentException e)
            {
                row = new ReportRow { Compression = v, Index = _options.Index, Error = e.Message, Count = _base.Count, Dim = _base.Dimension };
            }
            yield return row;
        }
    }

    /// <summary>Builds and measures one variant.</summary>
    public ReportRow RunVariant(string compression, IProgress<string>? log = null)
    {
        var o = _options;
        int dim = _base.Dimension;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long heapBefore = GC.GetTotalMemory(true);
        using var sampler = new PeakMemorySampler();
        using var db = VectorDatabase.CreateInMemory();
        var collection = db.CreateCollection("report", new CollectionOptions
        {
            Dimension = dim,
            Metric = o.Metric,
            Compression = compression,
            Index = o.Index,
            TrainingThreshold = int.MaxValue,
            Seed = o.Seed,
        });
        var ids = new ulong[_base.Count];
        for (int i = 0; i < ids.Length; i++) ids[i] = (ulong)i;
        collection.UpsertBatch(ids, _base);
        var sw = Stopwatch.StartNew();
        collection.BuildIndex();
        double build = sw.Elapsed.TotalSeconds;
        var index = collection.Index!;
        var codec = index.Codec;
        long heapAfter = GC.GetTotalMemory(true);
        double encodeUs = MeasureEncode(codec);
        int all = o.Threads > 0 ? o.Threads : Environment.ProcessorCount;
        double train = Math.Max(0, build - encodeUs * 1e-6 * _base.Count / all);
        log?.Report($"variant {compression}: built in {build:F1} s, searching");

        var search = new SearchOptions { K = o.K, Rerank = o.Rerank, Ef = o.Ef, NProbe = o.NProbe };
        for (int i = 0; i < Math.Min(50, _queries.Count); i++) collection.Search(_queries.Row(i), search);
        var latencies = new double[_queries.Count];
        var found = new long[_queries.Count][];
        var total = Stopwatch.StartNew();
        for (int i = 0; i < _queries.Count; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            var hits = collection.Search(_queries.Row(i), search);
            latencies[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            found[i] = hits.Select(h => (long)h.Id).ToArray();
        }
        double qps1 = _queries.Count / total.Elapsed.TotalSeconds;
        sw.Restart();
        collection.SearchBatch(_queries, search, all);
        double qpsAll = _queries.Count / sw.Elapsed.TotalSeconds;
        Array.Sort(latencies);

        var deep = collection.SearchBatch(_queries, search with { K = 100, Rerank = o.Rerank > 0 ? Math.Max(o.Rerank, 100) : 0 }, all);
        var estimates = o.Rerank > 0 ? collection.SearchBatch(_queries, search with { K = 100, Rerank = 0 }, all) : deep;
        var (spearman, mae) = Calibration(estimates);
        var truth = _truth.Take(_queries.Count).ToArray();
        var deepIds = deep.Select(h => h.Select(x => (long)x.Id).ToArray()).ToArray();

        double bytesPerVector = (double)index.MemoryBytes / Math.Max(1, index.Count);
        return new ReportRow
        {
            Index = index.Spec,
            Compression = compression,
            Param = o.Ef > 0 ? $"ef={o.Ef}" : o.NProbe > 0 ? $"nprobe={o.NProbe}" : "none",
            K = o.K,
            Rerank = o.Rerank,
            RecallAtK = Recall.AtK(found, truth, o.K),
            RecallAt1 = Recall.AtK(found, truth, 1),
            RecallAt10 = o.K >= 10 ? Recall.AtK(found, truth, 10) : Recall.AtK(deepIds, truth, 10),
            RecallAt100 = Recall.AtK(deepIds, truth, Math.Min(100, _base.Count)),
            NdcgAt10 = Ndcg(o.K >= 10 ? found : deepIds, truth, 10),
            Spearman = spearman,
            ScoreMae = mae,
            Qps = qps1,
            QpsAllThreads = qpsAll,
            AllThreads = all,
            P50Us = Percentile(latencies, 0.50),
            P99Us = Percentile(latencies, 0.99),
            BuildSeconds = build,
            TrainSeconds = train,
            EncodeUsPerVector = encodeUs,
            BytesPerVector = bytesPerVector,
            CodeBytes = codec.CodeSize,
            ParameterBytes = codec.ParameterBytes,
            CompressionRatio = dim * sizeof(float) / bytesPerVector,
            RerankBytesPerVector = o.Rerank > 0 ? dim * sizeof(float) : 0,
            PeakRssMb = sampler.PeakBytes / (1024.0 * 1024.0),
            HeapMb = (heapAfter - heapBefore) / (1024.0 * 1024.0),
            Count = _base.Count,
            Dim = dim,
            Diagnostics = codec is TransformedCodec { Transform: ITransformDiagnostics d } ? d.Diagnostics : null,
        };
    }

    /// <summary>Single-thread encoding time per vector, µs, on up to 2,000 base rows.</summary>
    private double MeasureEncode(VectorCodec codec)
    {
        int n = Math.Min(2_000, _preparedBase.Count);
        var code = new byte[codec.CodeSize];
        for (int i = 0; i < Math.Min(100, n); i++) codec.Encode(_preparedBase.Row(i), code);
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < n; i++) codec.Encode(_preparedBase.Row(i), code);
        return sw.Elapsed.TotalMicroseconds / n;
    }

    /// <summary>Mean per-query Spearman ρ and overall mean absolute error between estimated and exact scores.</summary>
    private (double Spearman, double Mae) Calibration(SearchHit[][] estimates)
    {
        var kind = _options.Metric.ToDistanceKind();
        double rhoSum = 0, errSum = 0;
        int rhoCount = 0;
        long errCount = 0;
        for (int q = 0; q < estimates.Length; q++)
        {
            var hits = estimates[q];
            if (hits.Length == 0) continue;
            var est = new double[hits.Length];
            var exact = new double[hits.Length];
            for (int i = 0; i < hits.Length; i++)
            {
                est[i] = hits[i].Score;
                exact[i] = _options.Metric.ToScore(Distances.Compute(kind, _preparedQueries.Row(q), _preparedBase.Row((int)hits[i].Id)));
                errSum += Math.Abs(est[i] - exact[i]);
                errCount++;
            }
            if (hits.Length >= 3)
            {
                rhoSum += Spearman(est, exact);
                rhoCount++;
            }
        }
        return (rhoCount == 0 ? 0 : rhoSum / rhoCount, errCount == 0 ? 0 : errSum / errCount);
    }

    /// <summary>Spearman rank correlation (average ranks for ties); 1 when either side is constant and equal in order.</summary>
    internal static double Spearman(double[] a, double[] b)
    {
        var ra = Ranks(a);
        var rb = Ranks(b);
        double ma = ra.Average(), mb = rb.Average(), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < ra.Length; i++)
        {
            sab += (ra[i] - ma) * (rb[i] - mb);
            saa += (ra[i] - ma) * (ra[i] - ma);
            sbb += (rb[i] - mb) * (rb[i] - mb);
        }
        return saa == 0 || sbb == 0 ? (saa == sbb ? 1 : 0) : sab / Math.Sqrt(saa * sbb);
    }

    private static double[] Ranks(double[] v)
    {
        var order = Enumerable.Range(0, v.Length).OrderBy(i => v[i]).ToArray();
        var ranks = new double[v.Length];
        for (int i = 0; i < order.Length;)
        {
            int j = i;
            while (j + 1 < order.Length && v[order[j + 1]] == v[order[i]]) j++;
            double r = (i + j) / 2.0;
            for (int t = i; t <= j; t++) ranks[order[t]] = r;
            i = j + 1;
        }
        return ranks;
    }

    /// <summary>nDCG@k with binary relevance: a result counts when it is among the true top k.</summary>
    internal static double Ndcg(IReadOnlyList<long[]> found, IReadOnlyList<int[]> truth, int k)
    {
        double sum = 0;
        for (int q = 0; q < found.Count; q++)
        {
            var relevant = truth[q].Take(k).Select(t => (long)t).ToHashSet();
            double dcg = 0, ideal = 0;
            for (int i = 0; i < Math.Min(k, found[q].Length); i++)
                if (relevant.Contains(found[q][i])) dcg += 1 / Math.Log2(i + 2);
            for (int i = 0; i < Math.Min(k, relevant.Count); i++) ideal += 1 / Math.Log2(i + 2);
            sum += ideal > 0 ? dcg / ideal : 0;
        }
        return found.Count == 0 ? 0 : sum / found.Count;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    /// <summary>Samples the process working set every 20 ms on a background thread and keeps the maximum.</summary>
    private sealed class PeakMemorySampler : IDisposable
    {
        private readonly Timer _timer;
        private long _peak;

        public PeakMemorySampler()
        {
            Sample(null);
            _timer = new Timer(Sample, null, 20, 20);
        }

        public long PeakBytes
        {
            get
            {
                Sample(null);
                return Interlocked.Read(ref _peak);
            }
        }

        private void Sample(object? _)
        {
            using var p = Process.GetCurrentProcess();
            long ws = p.WorkingSet64;
            long seen;
            while (ws > (seen = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, ws, seen) != seen) { }
        }

        public void Dispose() => _timer.Dispose();
    }
}
