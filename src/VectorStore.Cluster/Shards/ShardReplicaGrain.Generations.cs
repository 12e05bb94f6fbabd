using System.Text.Json;
using VectorStore.Collections;
using VectorStore.Lifecycle;

namespace VectorStore.Cluster.Shards;

/// <summary>
/// Compression generations on one copy: the layout grain stages one shared training sample on every copy, and each
/// builds the generation from it under the cluster's number with the engine's given-sample build (the same codec on
/// every shard). The sample stays beside the copy (<see cref="GenerationSampleFile"/>) so a copy that lacks the
/// generation later is given it by one that has it. Builds run in the engine's background; writes and searches go on.
/// </summary>
internal sealed partial class ShardReplicaGrain
{
    // Lifecycle records cross grain calls as JSON: they are the engine's public records, without Orleans codecs, and
    // one definition of each is better than a mirrored copy per field.
    internal static readonly JsonSerializerOptions LifecycleJson = new() { IncludeFields = false };

    /// <summary>What a copy's engine retains by itself: everything it may (the layout decides what goes).</summary>
    private const int EngineRetention = 16;

    private readonly Dictionary<int, List<float[]>> _stagedSamples = [];

    private string SamplePath(int number) => GenerationSampleFile.PathOf(store.SampleDirectory, _key.LocalPrefix, number);

    public Task StageGenerationSampleAsync(int number, float[] rows, bool reset)
    {
        if (reset || !_stagedSamples.TryGetValue(number, out var staged)) _stagedSamples[number] = staged = [];
        staged.Add(rows);
        return Task.CompletedTask;
    }

    public Task<string?> StartGenerationAsync(int number, string compression, string index)
    {
        var data = _data ?? throw new InvalidOperationException($"{_key} holds no data");
        _stagedSamples.Remove(number, out var staged);
        return Task.Run(string? () =>
        {
            int dim = data.Options.Dimension;
            string path = SamplePath(number);
            if (staged is not null) GenerationSampleFile.Write(path, number, dim, staged.SelectMany(r => r).ToArray());
            if (data.Generations().FirstOrDefault(g => g.Generation == number) is { } existing)
            {
                if (existing.Error is null) return null; // built or building: idempotent
                data.DropGeneration(number);
            }
            if (data.Count == 0) return null; // an empty copy has nothing to encode; it keeps the sample for later
            if (data.Policy.RetainRetired != EngineRetention)
                data.Policy = data.Policy with { RetainRetired = EngineRetention }; // the layout decides what goes
            var sample = new VectorMatrix(GenerationSampleFile.Read(path, number, dim), dim);
            data.BuildGeneration(compression, index, sample, number);
            return null;
        });
    }

    public async Task<string?> WaitGenerationAsync(int number)
    {
        var data = _data ?? throw new InvalidOperationException($"{_key} holds no data");
        if (data.Count == 0 && data.Generations().All(g => g.Generation != number)) return null;
        try
        {
            await data.WaitForGeneration(number);
            return null;
        }
        catch (InvalidArgumentException e) { return e.Message; }
    }

    public Task<float[]?> ReadGenerationSampleAsync(int number, int fromRow, int rows)
    {
        int dim = _assignment.Spec.Dimension;
        string path = SamplePath(number);
        return Task.Run(() =>
        {
            if (!File.Exists(path)) return null;
            var all = GenerationSampleFile.Read(path, number, dim);
            int from = Math.Min(all.Length, fromRow * dim);
            return all.AsSpan(from, Math.Min(all.Length - from, rows * dim)).ToArray();
        });
    }

    public Task SetLiveGenerationAsync(int number)
    {
        var data = _data ?? throw new InvalidOperationException($"{_key} holds no data");
        return Task.Run(() =>
        {
            if (data.LiveGeneration == number) return;
            // An empty copy could not build it (nothing to encode): it keeps its generation until it holds vectors.
            if (data.Count == 0 && data.Generations().All(g => g.Generation != number)) return;
            data.Promote(number);
        });
    }

    public Task DropGenerationAsync(int number)
    {
        var data = _data;
        return Task.Run(() =>
        {
            _stagedSamples.Remove(number);
            if (data is not null && data.LiveGeneration != number && data.Generations().Any(g => g.Generation == number)) data.DropGeneration(number);
            GenerationSampleFile.Delete(SamplePath(number));
        });
    }

    public Task<string> GenerationsJsonAsync()
    {
        var data = ReadableOrLearnerData();
        return Task.Run(() => JsonSerializer.Serialize(data.Generations(), LifecycleJson));
    }

    public Task<string> DriftJsonAsync()
    {
        var data = ReadableData();
        return Task.Run(() => JsonSerializer.Serialize(data.Drift(), LifecycleJson));
    }

    public Task<string> RunCanaryJsonAsync(int generation, ShardQuery query)
    {
        var data = ReadableData();
        return Task.Run(() =>
            JsonSerializer.Serialize(data.RunCanary(generation, new VectorMatrix(query.Queries, query.Dimension), ToSearchOptions(query)), LifecycleJson));
    }

    public Task SetExposureAsync(int generation, double percent)
    {
        var data = ReadableData();
        return Task.Run(() => data.SetExposure(generation, percent));
    }

    public Task StartCanaryAsync(string settings)
    {
        var data = ReadableData();
        var parsed = JsonSerializer.Deserialize<CanarySettings>(settings, LifecycleJson)!;
        return Task.Run(() => data.StartCanary(parsed));
    }

    public Task StopCanaryAsync()
    {
        var data = ReadableData();
        return Task.Run(data.StopCanary);
    }

    public Task SetPolicyAsync(string policy)
    {
        var data = ReadableOrLearnerData();
        // The engine never drops a generation by itself on a copy: retention is the layout's.
        var parsed = JsonSerializer.Deserialize<LifecyclePolicy>(policy, LifecycleJson)! with { RetainRetired = EngineRetention };
        return Task.Run(() => data.Policy = parsed);
    }

    /// <summary>
    /// A copy that missed a switch (its silo did not answer when the layout grain made another generation live) makes
    /// the layout's live generation live once told, if it holds it ready; one that lacks it is given it by a repair.
    /// </summary>
    private void CatchUpLiveGeneration(ShardAssignment a)
    {
        if (_data is not { } data || a.Role is not (ShardRole.Primary or ShardRole.Replica) || data.LiveGeneration == a.LiveGeneration) return;
        if (data.Generations().FirstOrDefault(g => g.Generation == a.LiveGeneration) is not { Ready: true }) return;
        try { data.Promote(a.LiveGeneration); }
        catch (Exception e) when (e is VectorStoreException or IOException)
        {
            LogCatchUpFailed(_key.ToString(), a.LiveGeneration, e);
        }
    }

    private Collection ReadableOrLearnerData() =>
        _assignment.Role == ShardRole.Learner && _data is { } d ? d : ReadableData();

    /// <summary>Every <see cref="SearchOptions"/> field a <see cref="ShardQuery"/> carries.</summary>
    private static SearchOptions ToSearchOptions(ShardQuery query) => new()
    {
        K = query.K,
        Rerank = query.Rerank,
        TargetRecall = query.TargetRecall,
        Ef = query.Ef,
        NProbe = query.NProbe,
        ExposureKey = query.ExposureKey,
        Filter = query.FilterIds is null && query.Where is null ? null : new SearchFilter
        {
            Ids = query.FilterIds?.ToHashSet(),
            Where = query.Where is null ? null : Filtering.FilterParser.Parse(query.Where),
        },
    };
}
