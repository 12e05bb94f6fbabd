using VectorStore.Collections;
using VectorStore.Lifecycle;

namespace VectorStore.Tests.Protocol;

/// <summary>
/// A database with generations for tests that must not depend on the engine: every lifecycle call answers with the
/// canned reports below and records what arrived; searches are the inner database's, each hit marked with generation 3
/// when the search carried an exposure key, else 2.
/// </summary>
internal sealed class FakeLifecycleClient(IVectorDatabaseClient inner) : DelegatingClient(inner), ICompressionLifecycleClient
{
    public static readonly CanaryReport Canary = new()
    {
        Generation = 2, LiveGeneration = 1, Queries = 300, ExactQueries = 120, K = 10, RecallLive = 0.912, RecallCandidate = 0.874, Overlap = 0.81,
        LiveP50Ms = 0.21, LiveP99Ms = 0.93, CandidateP50Ms = 0.11, CandidateP99Ms = 0.52, CandidateIndexBytes = 1_000_000, LiveIndexBytes = 4_000_000,
        Segments = [new SegmentRecall("lib", 70, 0.9, 0.7), new SegmentRecall("python3-", 30, 0.95, 0.93), new SegmentRecall("ünïcode", 1, 1, double.NaN)],
    };

    public static readonly GenerationInfo[] Generations =
    [
        new() { Generation = 1, State = GenerationState.Retired, Compression = "sq8", Index = "flat", Ready = true, Progress = 1, CodeSize = 384, IndexBytes = 19_200_000 },
        new() { Generation = 2, State = GenerationState.Live, Compression = "pq:48", Index = "ivf:256", Ready = true, Progress = 1, CodeSize = 48, IndexBytes = 2_400_000 },
        new() { Generation = 3, State = GenerationState.Candidate, Compression = "pq:96x4", Index = "ivf:256", Progress = 0.25, ExposurePercent = 12.5, Canary = Canary },
        new() { Generation = 4, State = GenerationState.Candidate, Compression = "pq:7", Index = "flat", Error = "pq:7 does not divide dimension 384" },
    ];

    public static readonly DriftReport Drift = new()
    {
        Generation = 2, Observed = 12_345,
        Signals = [new DriftSignal("reconstruction_error", 0.31, 0.2, 0.1), new DriftSignal("mmd", 0.01, 0.05, double.NaN)],
        Actions = ["rebalanced ivf lists", "built generation 3"],
    };

    public readonly List<string> Calls = [];
    public CanarySettings? Settings;
    public PromotionGate? Gate;
    public LifecyclePolicy? Policy;

    private Task<T> Record<T>(string call, T result)
    {
        lock (Calls) Calls.Add(call);
        return Task.FromResult(result);
    }

    public Task<int> BuildGenerationAsync(string name, string compression, string index, bool wait = true, CancellationToken cancellationToken = default) =>
        Record($"build {name} {compression} {index} {wait}", 3);

    public Task<IReadOnlyList<GenerationInfo>> ListGenerationsAsync(string name, CancellationToken cancellationToken = default) =>
        Record<IReadOnlyList<GenerationInfo>>($"list {name}", Generations);

    public Task<CanaryReport> RunCanaryAsync(string name, int generation, VectorMatrix queries, SearchOptions? options = null, CancellationToken cancellationToken = default) =>
        Record($"canary {name} {generation} {queries.Count}x{queries.Dimension} k={options?.K} rerank={options?.Rerank}", Canary);

    public Task StartCanaryAsync(string name, CanarySettings settings, CancellationToken cancellationToken = default)
    {
        Settings = settings;
        return Record($"start {name}", 0);
    }

    public Task StopCanaryAsync(string name, CancellationToken cancellationToken = default) => Record($"stop {name}", 0);

    public Task SetExposureAsync(string name, int generation, double percent, CancellationToken cancellationToken = default) =>
        Record(FormattableString.Invariant($"exposure {name} {generation} {percent}"), 0);

    public Task PromoteAsync(string name, int generation, PromotionGate? gate = null, CancellationToken cancellationToken = default)
    {
        if (generation == 99) return Task.FromException(new InvalidArgumentException("generation 99 is not a ready candidate"));
        Gate = gate;
        return Record($"promote {name} {generation}", 0);
    }

    public Task<int> RollbackAsync(string name, CancellationToken cancellationToken = default) => Record($"rollback {name}", 2);

    public Task<int> CollectGenerationsAsync(string name, CancellationToken cancellationToken = default) => Record($"gc {name}", 1);

    public Task SetLifecyclePolicyAsync(string name, LifecyclePolicy policy, CancellationToken cancellationToken = default)
    {
        Policy = policy;
        return Record($"policy {name}", 0);
    }

    public Task<DriftReport> GetDriftAsync(string name, CancellationToken cancellationToken = default) => Record($"drift {name}", Drift);

    public Task<LifecyclePolicy> GetLifecyclePolicyAsync(string name, CancellationToken cancellationToken = default) =>
        Record($"get policy {name}", Policy ?? new LifecyclePolicy());

    public override async Task<SearchHit[][]> SearchBatchAsync(string name, VectorMatrix queries, SearchOptions? options = null, CancellationToken cancellationToken = default)
    {
        lock (Calls) Calls.Add($"search key={options?.ExposureKey} segment={options?.Segment}");
        var results = await base.SearchBatchAsync(name, queries, options, cancellationToken);
        int generation = options?.ExposureKey is null ? 2 : 3;
        return results.Select(hits => hits.Select(h => h with { Generation = generation }).ToArray()).ToArray();
    }
}
