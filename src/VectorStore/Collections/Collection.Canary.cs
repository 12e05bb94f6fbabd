using System.IO.Hashing;
using System.Threading.Channels;
using VectorStore.Lifecycle;

namespace VectorStore.Collections;

/// <summary>
/// Comparing generations on queries: the shadow canary on live traffic (a sampled share of live queries is answered
/// again, off the request path, by a candidate and by exact search), the offline canary on a query set, and A/B
/// exposure (a stable share of keyed queries served by a candidate).
/// </summary>
public sealed partial class Collection
{
    private sealed record Exposure(Generation Generation, double Percent);

    private volatile Exposure? _exposure;
    private volatile CanaryRunner? _canary;

    /// <summary>The generation that serves a search (under the read lock): the live one, or an exposed candidate for a keyed share.</summary>
    private Generation Serving(SearchOptions options)
    {
        if (options.ExposureKey is not { } key || _exposure is not { } exposure || !exposure.Generation.Ready) return _current;
        return ExposureBucket(key) < exposure.Percent * 100 ? exposure.Generation : _current;
    }

    /// <summary>A stable bucket in 0..9999 of an exposure key (xxHash64 of its UTF-8 bytes): the same key always lands in the same bucket.</summary>
    internal static int ExposureBucket(string key)
    {
        int max = System.Text.Encoding.UTF8.GetMaxByteCount(key.Length);
        Span<byte> buffer = max <= 512 ? stackalloc byte[max] : new byte[max];
        int n = System.Text.Encoding.UTF8.GetBytes(key, buffer);
        return (int)(XxHash64.HashToUInt64(buffer[..n]) % 10_000);
    }

    /// <summary>
    /// Serves <paramref name="percent"/> % of searches that carry <see cref="SearchOptions.ExposureKey"/> with ready
    /// candidate <paramref name="generation"/>; 0 ends the exposure. Not persisted.
    /// </summary>
    public void SetExposure(int generation, double percent)
    {
        if (!(percent is >= 0 and <= 100)) throw new InvalidArgumentException($"exposure percent must be in [0, 100], got {percent}");
        _lock.EnterWriteLock();
        try
        {
            ThrowIfClosed();
            var g = FindLocked(generation);
            if (percent == 0)
            {
                if (_exposure?.Generation == g) _exposure = null;
                return;
            }
            if (g == _current) throw new InvalidArgumentException($"generation {generation} of '{Name}' is live: exposure is for a candidate");
            if (!g.Ready) throw new InvalidArgumentException($"generation {generation} of '{Name}' is not ready (built {g.Progress:P0})");
            _exposure = new Exposure(g, percent);
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>Starts (replacing any) the shadow canary of a non-live generation on live traffic. Not persisted.</summary>
    public void StartCanary(CanarySettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        if (settings.SegmentField is { } field && Options.Fields?.Any(f => f.Name == field) != true)
            throw new InvalidArgumentException($"canary segment field '{field}' is not a declared field of '{Name}'");
        _lock.EnterWriteLock();
        try
        {
            ThrowIfClosed();
            var g = FindLocked(settings.Generation);
            if (g == _current) throw new InvalidArgumentException($"generation {settings.Generation} of '{Name}' is live: a canary compares another generation with it");
            _canary?.Stop();
            _canary = new CanaryRunner(this, g, settings);
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>Stops the shadow canary (its figures stay on the generation).</summary>
    public void StopCanary()
    {
        var c = _canary;
        _canary = null;
        c?.Stop();
    }

    /// <summary>Waits until the shadow canary has processed every query offered so far (tests and benchmarks).</summary>
    internal Task DrainCanary() => _canary?.Drain() ?? Task.CompletedTask;

    /// <summary>
    /// Answers every row of <paramref name="queries"/> with the live generation, with <paramref name="generation"/> and
    /// exactly, and compares them; <paramref name="segmentField"/> (a declared field) breaks recall down by the
    /// values of the true neighbours, <see cref="SearchOptions.Segment"/> tags every query.
    /// </summary>
    public CanaryReport RunCanary(int generation, VectorMatrix queries, SearchOptions? options = null, string? segmentField = null)
    {
        options ??= new SearchOptions();
        ValidateSearch(queries.Dimension, options);
        if (options.Filter is not null) throw new InvalidArgumentException("an offline canary runs unfiltered queries");
        var g = Find(generation);
        if (!g.Ready) throw new InvalidArgumentException($"generation {generation} of '{Name}' is not ready (built {g.Progress:P0})");
        var recorder = new CanaryRecorder(options.K);
        // Settings for a target recall are tuned here, outside the lock, not by the first query under it.
        PrepareTargetRecall(options, _current);
        PrepareTargetRecall(options with { ExposureKey = null }, g);
        var scratch = _search.Scratch;
        var q = new float[Options.Dimension];
        int live = 0;
        long liveBytes = 0;
        for (int i = 0; i < queries.Count; i++)
        {
            _search.PrepareQuery(queries.Row(i), q, i);
            _lock.EnterReadLock();
            try
            {
                ThrowIfClosed();
                if (!_generations.Contains(g)) throw new InvalidArgumentException($"generation {generation} of '{Name}' was dropped during the canary");
                live = _current.Number;
                liveBytes = _current.MemoryBytes;
                long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                var liveHits = _search.Search(q, options, scratch, _current);
                double liveMs = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                CompareLocked(q, options, liveHits, liveMs, g, exact: true, segmentField, scratch, recorder, null);
            }
            finally { _lock.ExitReadLock(); }
        }
        return recorder.Report(generation, live, g.MemoryBytes, liveBytes);
    }

    /// <summary>
    /// Under the read lock: answers <paramref name="q"/> with <paramref name="candidate"/> (timed) and, with
    /// <paramref name="exact"/>, exactly; records recall, overlap and segments into <paramref name="recorder"/> (and
    /// the live generation's own recall into <paramref name="liveRecorder"/>).
    /// </summary>
    private void CompareLocked(float[] q, SearchOptions options, SearchHit[] live, double liveMs, Generation candidate, bool exact,
        string? segmentField, SearchScratch scratch, CanaryRecorder recorder, CanaryRecorder? liveRecorder)
    {
        var plain = options with { IncludeFields = false, IncludePayload = false, IncludeVector = false, ExposureKey = null };
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        var cand = _search.Search(q, plain, scratch, candidate);
        double candMs = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        double overlap = Overlap(cand, live);
        if (!exact)
        {
            recorder.Record(options.K, overlap, liveMs, candMs, null, null, null);
            return;
        }
        var truth = _search.Search(q, plain with { IncludeFields = segmentField is not null }, scratch, _current, exact: true);
        double recallLive = Overlap(live, truth), recallCandidate = Overlap(cand, truth);
        List<(string, bool, bool)>? items = null;
        if (segmentField is not null)
        {
            items = new List<(string, bool, bool)>(truth.Length);
            foreach (var t in truth)
            {
                string segment = t.Fields is { } f && f.TryGetValue(segmentField, out var v)
                    ? v.Type == Filtering.FieldType.Keyword ? v.AsKeyword() : v.ToString()
                    : "(none)";
                items.Add((segmentField + "=" + segment, Contains(live, t.Id), Contains(cand, t.Id)));
            }
        }
        recorder.Record(options.K, overlap, liveMs, candMs, (recallLive, recallCandidate), options.Segment, items);
        liveRecorder?.Record(options.K, 1, liveMs, liveMs, (recallLive, recallLive), null, null);
    }

    /// <summary>Fraction of <paramref name="reference"/>'s ids that <paramref name="hits"/> also holds (1 when the reference is empty).</summary>
    private static double Overlap(SearchHit[] hits, SearchHit[] reference)
    {
        if (reference.Length == 0) return 1;
        int found = 0;
        foreach (var r in reference)
            if (Contains(hits, r.Id)) found++;
        return found / (double)reference.Length;
    }

    private static bool Contains(SearchHit[] hits, ulong id)
    {
        foreach (var h in hits)
            if (h.Id == id) return true;
        return false;
    }

    /// <summary>
    /// The shadow canary's sampler and background worker: <see cref="Offer"/> (on the request path) samples and
    /// enqueues without blocking, dropping when the queue is full; one worker answers the queued queries with the
    /// candidate and exactly under the read lock. Thread-safety: <see cref="Offer"/> from any thread.
    /// </summary>
    private sealed class CanaryRunner
    {
        private readonly Collection _owner;
        private readonly CanarySettings _settings;
        private readonly Channel<(float[] Query, SearchOptions Options, SearchHit[] Live, double LiveMs)> _queue;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _worker;
        private readonly Random _exactPick;
        private readonly System.Diagnostics.Stopwatch _alive = System.Diagnostics.Stopwatch.StartNew();
        private long _offered, _processed, _busyTicks;

        public CanaryRunner(Collection owner, Generation generation, CanarySettings settings)
        {
            _owner = owner;
            Generation = generation;
            _settings = settings;
            _exactPick = new Random(settings.Seed);
            _queue = Channel.CreateBounded<(float[], SearchOptions, SearchHit[], double)>(
                new BoundedChannelOptions(settings.QueueCapacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
            _worker = Task.Run(RunAsync);
        }

        public Generation Generation { get; }

        public void Offer(float[] query, SearchOptions options, SearchHit[] live, double liveMs)
        {
            if (Random.Shared.NextDouble() >= _settings.SampleRate) return;
            // Wait mode: TryWrite refuses (never blocks) when the queue is full, and the query is simply not shadowed.
            if (_queue.Writer.TryWrite((query.ToArray(), options, live, liveMs))) Interlocked.Increment(ref _offered);
        }

        public void Stop()
        {
            _queue.Writer.TryComplete();
            _stop.Cancel();
        }

        public async Task Drain()
        {
            while (Volatile.Read(ref _processed) < Volatile.Read(ref _offered) && !_worker.IsCompleted) await Task.Delay(5).ConfigureAwait(false);
        }

        private async Task RunAsync()
        {
            try
            {
                await foreach (var item in _queue.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
                {
                    try { Process(item.Query, item.Options, item.Live, item.LiveMs); }
                    catch (Exception e) when (e is ObjectDisposedException or VectorStoreException or InvalidOperationException)
                    {
                        // A canary never fails a search: a query it cannot answer (collection closing, generation
                        // dropped) is skipped.
                    }
                    finally { Interlocked.Increment(ref _processed); }
                }
            }
            catch (OperationCanceledException) { }
        }

        private void Process(float[] q, SearchOptions options, SearchHit[] live, double liveMs)
        {
            // Over budget: skip (the first second's allowance lets a fresh canary start at once).
            double busy = _busyTicks / (double)System.Diagnostics.Stopwatch.Frequency;
            if (busy > _settings.CpuBudget * (_alive.Elapsed.TotalSeconds + 1)) return;
            long started = System.Diagnostics.Stopwatch.GetTimestamp();
            try { Compare(q, options, live, liveMs); }
            finally { _busyTicks += System.Diagnostics.Stopwatch.GetTimestamp() - started; }
        }

        private void Compare(float[] q, SearchOptions options, SearchHit[] live, double liveMs)
        {
            var o = _owner;
            var g = Generation;
            bool exact = _exactPick.NextDouble() < _settings.ExactFraction;
            o.PrepareTargetRecall(options, g);
            o._lock.EnterReadLock();
            try
            {
                if (o._closed || !g.Ready || g == o._current || !o._generations.Contains(g)) return;
                o.CompareLocked(q, options, live, liveMs, g, exact, _settings.SegmentField, o._search.Scratch, g.Canary, o._current.LiveCanary);
            }
            finally { o._lock.ExitReadLock(); }
            o.AfterCanaryQuery(g);
        }
    }

    /// <summary>
    /// After a canary query: automatic rollback when the live generation's measured recall fell below the policy's
    /// floor, and the drift ladder's gated promotion.
    /// </summary>
    private void AfterCanaryQuery(Generation candidate)
    {
        var policy = Policy;
        var live = _current;
        if (policy.RollbackRecallFloor is { } floor && live.LiveCanary.ExactQueries >= policy.Gate.MinExactQueries
            && live.LiveCanary.Report(live.Number, live.Number).RecallLive < floor
            && live.State == GenerationState.Live && _generations.Any(g => g.State == GenerationState.Retired && g.Ready))
        {
            try
            {
                int to = Rollback();
                NoteLadder($"rollback: live generation {live.Number}'s canary recall fell below {floor}; generation {to} is live again");
            }
            catch (Exception e) when (e is VectorStoreException or ObjectDisposedException) { }
            return;
        }
        LadderAfterCanary(candidate);
    }
}
