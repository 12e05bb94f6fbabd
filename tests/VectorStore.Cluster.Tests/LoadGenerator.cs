using System.Collections.Concurrent;
using VectorStore.Collections;

namespace VectorStore.Cluster.Tests;

/// <summary>
/// Concurrent writers (each batch of new ids, recorded only once acknowledged) and a searcher (recording complete and
/// partial results, and failing on a complete result that is short) against one collection until stopped.
/// </summary>
public sealed class LoadGenerator
{
    private readonly DistributedCollection _collection;
    private readonly int _dimension;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _tasks = [];
    private long _nextId;

    public LoadGenerator(DistributedCollection collection, int dimension, ulong firstId)
    {
        _collection = collection;
        _dimension = dimension;
        _nextId = (long)firstId;
    }

    public ConcurrentDictionary<ulong, float[]> Acknowledged { get; } = new();
    public int FailedWrites;
    public int CompleteSearches;
    public int PartialSearches;
    public int FailedSearches;
    public ConcurrentBag<string> Violations { get; } = [];

    public void Start(int writers, int batch, int searchK)
    {
        for (int w = 0; w < writers; w++)
        {
            int seed = w;
            _tasks.Add(Task.Run(() => WriteLoopAsync(seed, batch)));
        }
        _tasks.Add(Task.Run(() => SearchLoopAsync(searchK)));
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_tasks);
    }

    private async Task WriteLoopAsync(int seed, int batch)
    {
        var rng = new Random(seed);
        while (!_stop.IsCancellationRequested)
        {
            ulong first = (ulong)Interlocked.Add(ref _nextId, batch) - (ulong)batch;
            var ids = Enumerable.Range(0, batch).Select(i => first + (ulong)i).ToArray();
            var data = new float[batch * _dimension];
            for (int i = 0; i < data.Length; i++) data[i] = (float)rng.NextDouble();
            try
            {
                await _collection.UpsertBatchAsync(ids, new VectorMatrix(data, _dimension));
                for (int i = 0; i < batch; i++) Acknowledged[ids[i]] = data.AsSpan(i * _dimension, _dimension).ToArray();
            }
            catch (Exception)
            {
                Interlocked.Increment(ref FailedWrites); // not acknowledged: may or may not be stored
            }
        }
    }

    private async Task SearchLoopAsync(int k)
    {
        var rng = new Random(99);
        while (!_stop.IsCancellationRequested)
        {
            var q = Enumerable.Range(0, _dimension).Select(_ => (float)rng.NextDouble()).ToArray();
            // Acknowledged before the search starts, so a complete result must hold at least min(k, that) hits.
            int stored = Acknowledged.Count;
            try
            {
                var r = await _collection.SearchAsync(q, new SearchOptions { K = k });
                if (r.IsPartial) Interlocked.Increment(ref PartialSearches);
                else
                {
                    Interlocked.Increment(ref CompleteSearches);
                    if (r.Hits.Length < Math.Min(k, stored)) Violations.Add($"complete result with {r.Hits.Length} of {k} hits ({stored} acknowledged)");
                }
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref FailedSearches);
                Violations.Add($"search threw {e.GetType().Name}: {e.Message}");
            }
            await Task.Delay(20);
        }
    }
}
