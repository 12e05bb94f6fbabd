using VectorStore.Lifecycle;

namespace VectorStore.Collections;

/// <summary>
/// Accumulates one canary's comparisons (recall of live and candidate against exact search, their overlap, both
/// latencies, per-segment recall) into a <see cref="CanaryReport"/>. Latency percentiles are over the most recent
/// <see cref="LatencyWindow"/> queries, so a long-running canary reports current behaviour.
/// Thread-safety: every member may be called from any thread (one lock; a record is a few additions).
/// </summary>
internal sealed class CanaryRecorder(int k)
{
    public const int LatencyWindow = 8192;

    private readonly object _gate = new();
    private readonly double[] _liveMs = new double[LatencyWindow];
    private readonly double[] _candidateMs = new double[LatencyWindow];
    private readonly Dictionary<string, SegmentSums> _segments = new(StringComparer.Ordinal);
    private int _queries, _exact, _latencies, _k = k;
    private double _recallLive, _recallCandidate, _overlap;

    private sealed class SegmentSums
    {
        public int Count;
        public double Live, Candidate;
    }

    public int Queries
    {
        get { lock (_gate) return _queries; }
    }

    public int ExactQueries
    {
        get { lock (_gate) return _exact; }
    }

    /// <summary>
    /// One shadowed query: its <paramref name="overlap"/> and latencies, and when it was also answered exactly the two
    /// recalls, the query's segment and the per-item segments of its true neighbours (segment, found by live, found by candidate).
    /// </summary>
    public void Record(int k, double overlap, double liveMs, double candidateMs, (double Live, double Candidate)? recall,
        string? querySegment, IReadOnlyList<(string Segment, bool Live, bool Candidate)>? items)
    {
        lock (_gate)
        {
            _k = k;
            int at = _latencies++ % LatencyWindow;
            _liveMs[at] = liveMs;
            _candidateMs[at] = candidateMs;
            _queries++;
            _overlap += overlap;
            if (recall is not { } r) return;
            _exact++;
            _recallLive += r.Live;
            _recallCandidate += r.Candidate;
            if (querySegment is not null) Add("query:" + querySegment, 1, r.Live, r.Candidate);
            if (items is null) return;
            foreach (var (segment, live, candidate) in items) Add(segment, 1, live ? 1 : 0, candidate ? 1 : 0);
        }
    }

    private void Add(string segment, int count, double live, double candidate)
    {
        if (!_segments.TryGetValue(segment, out var s))
        {
            // Bounded: a segment key with unbounded cardinality (an id used as a tag) must not grow memory for ever.
            if (_segments.Count >= 10_000) return;
            _segments[segment] = s = new SegmentSums();
        }
        s.Count += count;
        s.Live += live;
        s.Candidate += candidate;
    }

    public CanaryReport Report(int generation, int liveGeneration, long candidateBytes = 0, long liveBytes = 0)
    {
        lock (_gate)
        {
            int n = Math.Min(_latencies, LatencyWindow);
            var segments = _segments
                .Select(p => new SegmentRecall(p.Key, p.Value.Count, p.Value.Live / p.Value.Count, p.Value.Candidate / p.Value.Count))
                .OrderBy(s => s.RecallCandidate).ThenBy(s => s.Segment, StringComparer.Ordinal).ToArray();
            return new CanaryReport
            {
                Generation = generation,
                LiveGeneration = liveGeneration,
                Queries = _queries,
                ExactQueries = _exact,
                K = _k,
                RecallLive = _exact == 0 ? double.NaN : _recallLive / _exact,
                RecallCandidate = _exact == 0 ? double.NaN : _recallCandidate / _exact,
                Overlap = _queries == 0 ? double.NaN : _overlap / _queries,
                LiveP50Ms = Percentile(_liveMs, n, 0.50),
                LiveP99Ms = Percentile(_liveMs, n, 0.99),
                CandidateP50Ms = Percentile(_candidateMs, n, 0.50),
                CandidateP99Ms = Percentile(_candidateMs, n, 0.99),
                CandidateIndexBytes = candidateBytes,
                LiveIndexBytes = liveBytes,
                Segments = segments,
            };
        }
    }

    /// <summary>Nearest-rank percentile of the first <paramref name="n"/> values (NaN when none).</summary>
    internal static double Percentile(double[] values, int n, double p)
    {
        if (n == 0) return double.NaN;
        var copy = values.AsSpan(0, n).ToArray();
        Array.Sort(copy);
        int rank = (int)Math.Ceiling(p * n) - 1;
        return copy[Math.Clamp(rank, 0, n - 1)];
    }
}
