using System.Diagnostics;
using VectorStore.Collections;
using VectorStore.Distance;
using VectorStore.Quantization;
using VectorStore.Ranking;

namespace VectorStore.Evaluation;

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
    private readonly EvalSettings _options;

    /// <summary>
    /// Prepares a run. Row i of <paramref name="baseVectors"/> gets id i; <paramref name="truth"/> holds, per query, base
    /// rows nearest first (at least 100 for recall@100); null computes it exactly (on <paramref name="options"/>'
    /// database threads). Every variant uses <paramref name="options"/> with its own compression.
    /// </summary>
    public ReportRunner(VectorMatrix baseVectors, VectorMatrix queries, int[][]? truth, EvalSettings options)
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
            truth = GroundTruth.Compute(_preparedBase, _preparedQueries, Math.Min(100, baseVectors.Count), kind, options.Database.Threads);
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
                row = new ReportRow { Compression = v, Index = _options.Index, Metric = _options.Metric.ToSpec(), Error = e.Message, Count = _base.Count, Dim = _base.Dimension };
            }
            yield return row;
        }
    }

    /// <summary>
    /// Builds and measures one variant. Building and the single-thread recall/latency/QPS pass are
    /// <see cref="EvalRunner"/>'s (the engine behind <c>eval</c>); the report adds the all-threads pass, recall@1/100,
    /// nDCG@10, score calibration, encoding cost and memory.
    /// </summary>
    public ReportRow RunVariant(string compression, IProgress<string>? log = null)
    {
        var o = _options;
        int dim = _base.Dimension;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long heapBefore = GC.GetTotalMemory(true);
        using var sampler = new PeakMemorySampler();
        // The timed single-thread pass is EvalRunner's; the all-threads pass below uses o.Threads.
        var eval = EvalRunner.Build(_base, o with { Compression = compression, Threads = 1 });
        var collection = eval.Collection;
        double build = eval.BuildSeconds;
        var index = collection.Index!;
        var codec = index.Codec;
        long heapAfter = GC.GetTotalMemory(true);
        double encodeUs = MeasureEncode(codec);
        int all = EvalSettings.Resolve(o.Threads);
        // Encoding ran on the build's workers, so its share of the build time divides by their number.
        double train = Math.Max(0, build - encodeUs * 1e-6 * _base.Count / EvalSettings.Resolve(o.Database.Threads));
        log?.Report($"variant {compression}: built in {build:F1} s, searching");

        var truth = _truth.Take(_queries.Count).ToArray();
        var point = eval.Resolve(o.DefaultPoint);
        var single = eval.Measure(_queries, truth, point);
        var found = single.Results;

        int rerank = eval.RerankAt(point);
        var search = new SearchOptions
        {
            K = o.K,
            Rerank = rerank,
            Ef = point.Name == "ef" ? point.Value : o.Ef,
            NProbe = point.Name == "nprobe" ? point.Value : o.NProbe,
        };
        // All-threads throughput: whole passes over the queries for at least MinSeconds, like EvalRunner's pass.
        long done = 0;
        var sw = Stopwatch.StartNew();
        do
        {
            collection.SearchBatch(_queries, search, all);
            done += _queries.Count;
        } while (sw.Elapsed.TotalSeconds < o.MinSeconds);
        double qpsAll = done / sw.Elapsed.TotalSeconds;

        var deep = collection.SearchBatch(_queries, search with { K = 100, Rerank = rerank > 0 ? Math.Max(rerank, 100) : 0 }, all);
        var estimates = rerank > 0 ? collection.SearchBatch(_queries, search with { K = 100, Rerank = 0 }, all) : deep;
        var (spearman, mae) = Calibration(estimates);
        var deepIds = deep.Select(h => h.Select(x => (long)x.Id).ToArray()).ToArray();

        double bytesPerVector = eval.BytesPerVector;
        return new ReportRow
        {
            Index = index.Spec,
            Compression = compression,
            Metric = o.Metric.ToSpec(),
            Param = point.ToString(),
            K = o.K,
            Rerank = rerank,
            RecallAtK = single.Recall,
            RecallAt1 = Recall.AtK(found, truth, 1),
            RecallAt10 = o.K >= 10 ? Recall.AtK(found, truth, 10) : Recall.AtK(deepIds, truth, 10),
            RecallAt100 = Recall.AtK(deepIds, truth, Math.Min(100, _base.Count)),
            NdcgAt10 = Ndcg(o.K >= 10 ? found : deepIds, truth, 10),
            Spearman = spearman,
            ScoreMae = mae,
            Qps = single.Qps,
            QpsAllThreads = qpsAll,
            AllThreads = all,
            P50Us = single.P50Us,
            P99Us = single.P99Us,
            BuildSeconds = build,
            TrainSeconds = train,
            EncodeUsPerVector = encodeUs,
            BytesPerVector = bytesPerVector,
            CodeBytes = codec.CodeSize,
            ParameterBytes = codec.ParameterBytes,
            CompressionRatio = dim * sizeof(float) / bytesPerVector,
            RerankBytesPerVector = eval.RerankBytesPerVector,
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
