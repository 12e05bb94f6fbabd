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
            var existing = data.Generations().FirstOrDefault(g => g.Generation == number);
            // Built or building: idempotent (its kept sample is the one it trains on; never replaced under it).
            if (existing is { Error: null }) return null;
            float[]? rows = staged?.SelectMany(r => r).ToArray();
            if (rows is not null) GenerationSampleFile.Write(path, number, dim, rows);
            if (data.Count == 0) return null; // an empty copy has nothing to encode; it keeps the sample for later
            BuildFromSample(data, number, compression, index, existing is not null, rows);
            return null;
        });
    }

    /// <summary>
    /// Builds generation <paramref name="number"/> on <paramref name="data"/> from <paramref name="rows"/>, or from
    /// the kept sample when null, after dropping the failed one it holds (<paramref name="dropFailed"/>).
    /// </summary>
    private void BuildFromSample(Collection data, int number, string compression, string index, bool dropFailed, float[]? rows = null)
    {
        int dim = data.Options.Dimension;
        if (dropFailed) data.DropGeneration(number);
        if (data.Policy.RetainRetired != EngineRetention)
            data.Policy = data.Policy with { RetainRetired = EngineRetention }; // the layout decides what goes
        data.BuildGeneration(compression, index, new VectorMatrix(rows ?? GenerationSampleFile.Read(SamplePath(number), number, dim), dim), number);
    }

    /// <summary>An empty copy could not build <paramref name="number"/> (nothing to encode) and does not hold it.</summary>
    private static bool EmptyWithout(Collection data, int number) =>
        data.Count == 0 && data.Generations().All(g => g.Generation != number);

    public async Task<string?> WaitGenerationAsync(int number)
    {
        var data = _data ?? throw new InvalidOperationException($"{_key} holds no data");
        if (EmptyWithout(data, number)) return null;
        try
        {
            await data.WaitForGeneration(number);
            return null;
        }
        catch (InvalidArgumentException e) { return e.Message; }
    }

    public Task<float[]?> ReadGenerationSampleAsync(int number, int dimension, int fromRow, int rows)
    {
        string path = SamplePath(number);
        return Task.Run(() =>
        {
            if (!File.Exists(path)) return null;
            // The first page verifies the whole file (its hash); later pages read only their rows.
            if (fromRow > 0) return GenerationSampleFile.ReadRows(path, number, dimension, fromRow, rows);
            var all = GenerationSampleFile.Read(path, number, dimension);
            return all.AsSpan(0, Math.Min(all.Length, rows * dimension)).ToArray();
        });
    }

    public Task SetLiveGenerationAsync(int number)
    {
        var data = _data ?? throw new InvalidOperationException($"{_key} holds no data");
        return Task.Run(() =>
        {
            // An empty copy keeps its generation until it holds vectors (the catch-up then builds this one).
            if (data.LiveGeneration == number || EmptyWithout(data, number)) return;
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
        var parsed = CopyPolicy(policy);
        return Task.Run(() =>
        {
            data.Policy = parsed;
            _appliedPolicy = policy;
        });
    }

    // The layout's policy JSON this copy's engine last took.
    private volatile string? _appliedPolicy;

    /// <summary>
    /// The engine policy of a copy under the collection's policy: the engine never drops, builds, promotes or rolls
    /// back a generation by itself on a copy (retention and the drift ladder's build and promotion are the layout
    /// grain's: one shared sample, collection-wide figures). Rebalancing lists in place stays the copy's own (it keeps
    /// the codec), as do the build throttle and the canary rate.
    /// </summary>
    private static LifecyclePolicy CopyPolicy(string policy) =>
        JsonSerializer.Deserialize<LifecyclePolicy>(policy, LifecycleJson)! with
        {
            RetainRetired = EngineRetention,
            BuildCandidateOnDrift = false,
            PromoteWhenGatePasses = false,
            RollbackRecallFloor = null,
        };

    /// <summary>
    /// Brings this copy's generations in line with the layout (every push; the periodic reconcile pushes to every
    /// copy): the layout's policy, no generation the layout dropped, and its live generation live — switched when held
    /// ready, else built from the kept sample (an empty copy that now holds vectors, a copy that missed the build) and
    /// switched at a later push. Advisory: a failure is logged and retried at the next push, never fails the push.
    /// </summary>
    private void CatchUpGenerations(ShardAssignment a)
    {
        if (_data is not { } data || a.LiveGeneration == 0 || a.Role is not (ShardRole.Primary or ShardRole.Replica)) return;
        try
        {
            if (a.Policy != _appliedPolicy && a.Policy is not null)
            {
                data.Policy = CopyPolicy(a.Policy);
                _appliedPolicy = a.Policy;
            }
            var held = data.Generations();
            int live = data.LiveGeneration;
            if (a.Generations.Length > 0)
                // Not one declared after this push was computed (a late push must not undo a newer build), nor one
                // still building.
                foreach (var g in held.Where(g => g.Generation != live && g.Generation <= a.LastGeneration && !a.Generations.Contains(g.Generation)
                    && (g.Ready || g.Error is not null)))
                {
                    data.DropGeneration(g.Generation);
                    GenerationSampleFile.Delete(SamplePath(g.Generation));
                }
            if (live == a.LiveGeneration) return;
            var target = held.FirstOrDefault(g => g.Generation == a.LiveGeneration);
            if (target is { Ready: true }) data.Promote(a.LiveGeneration);
            else if ((target is null || target.Error is not null) && data.Count > 0 && File.Exists(SamplePath(a.LiveGeneration)))
                BuildFromSample(data, a.LiveGeneration, a.LiveCompression, a.LiveIndex, dropFailed: target is not null);
        }
        catch (Exception e)
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
