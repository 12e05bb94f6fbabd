using VectorStore.Indexing;
using VectorStore.Lifecycle;
using VectorStore.Quantization;

namespace VectorStore.Collections;

/// <summary>
/// One compression generation of a collection: its specs, the codec and index trained for them (with the optional
/// refine stage), its state, and what the canary measured for it.
/// </summary>
/// <remarks>
/// Thread-safety: <see cref="State"/>, <see cref="Index"/>, <see cref="Refine"/> and <see cref="Attached"/> change only
/// under the collection's write lock; a building generation's index is private to its builder until it is attached.
/// <see cref="Pending"/> is written by writers under the write lock and swapped by the builder under the same lock.
/// Progress and error are published with volatile writes for readers without the lock.
/// </remarks>
internal sealed class Generation(int number, CompressionSpec compression, IndexSpec index, GenerationState state)
{
    public int Number { get; } = number;

    public CompressionSpec Compression { get; } = compression;

    public IndexSpec IndexSpec { get; } = index;

    public GenerationState State { get; set; } = state;

    /// <summary>The trained index; null while untrained (the live generation below its threshold, a candidate being built).</summary>
    public VectorIndex? Index { get; set; }

    public RefineStage? Refine { get; set; }

    /// <summary>Whether writes reach this generation's index (its build caught up with every write).</summary>
    public bool Attached { get; set; }

    /// <summary>Slots written while the builder copies vectors: replayed into the index before it is attached.</summary>
    public HashSet<int>? Pending { get; set; }

    /// <summary>The order in which generations were retired: rollback returns to the most recently retired.</summary>
    public long RetiredOrder { get; set; }

    private double _progress;

    public double Progress
    {
        get => Volatile.Read(ref _progress);
        set => Volatile.Write(ref _progress, value);
    }

    private string? _error;

    public string? Error
    {
        get => Volatile.Read(ref _error);
        set => Volatile.Write(ref _error, value);
    }

    /// <summary>The background build (completed when none runs).</summary>
    public Task Build { get; set; } = Task.CompletedTask;

    public CancellationTokenSource Cancel { get; } = new();

    /// <summary>Live-traffic canary figures of this generation against the live one.</summary>
    public CanaryRecorder Canary { get; set; } = new(0);

    /// <summary>Drift sensors against this generation's training sample (null before it is trained, or with too small a sample).</summary>
    public Drift.DriftMonitor? Drift { get; set; }

    /// <summary>Vectors in the sample the sensors were (or were not) baselined on; 0 when not known (a generation read back without sensors).</summary>
    public int DriftSample { get; set; }

    /// <summary>This generation's own recall while it is live (for the automatic rollback floor).</summary>
    public CanaryRecorder LiveCanary { get; set; } = new(0);

    /// <summary>
    /// Search settings tuned for a target recall on this generation's index (SearchOptions.TargetRecall), per target,
    /// k and the knob the caller fixed (0: tuned); lazily, so that one caller tunes and concurrent ones wait for it.
    /// </summary>
    public System.Collections.Concurrent.ConcurrentDictionary<(double Target, int K, int Ef, int NProbe), Lazy<TunedSearch>> TunedSearches { get; } = new();

    /// <summary>
    /// Raised (under the write lock) whenever the index changes under its tunings (retraining, rebalance), which are
    /// then dropped: a tuning that started at another value is abandoned, and one that finished is not kept.
    /// </summary>
    public int TuningEpoch { get; set; }

    /// <summary>
    /// The training sample the caller gave (<c>Collection.BuildGeneration</c> with a sample), held until the build
    /// has used it; null when the generation samples the collection's own vectors.
    /// </summary>
    public VectorMatrix? TrainingSample { get; set; }

    /// <summary>
    /// Whether it trains on a caller's sample, which is not persisted: a crash before a snapshot holds its index leaves
    /// it failed (the caller builds it again) instead of rebuilt from a different sample.
    /// </summary>
    public bool GivenSample { get; init; }

    /// <summary>
    /// For a given-sample generation: a snapshot holds its index (recovery could not rebuild it, so it must not be
    /// made live before).
    /// </summary>
    public bool Saved { get; set; }

    /// <summary>Built, attached, not failed, and for a given-sample generation saved in a snapshot.</summary>
    public bool Ready => Attached && Index is not null && Error is null && (Saved || !GivenSample);

    /// <summary>Resident bytes of its codes, index and refine stage (computed from their allocations).</summary>
    public long MemoryBytes => (Index?.MemoryBytes ?? 0) + (Refine?.MemoryBytes ?? 0);

    /// <summary>Its listing entry; the canary figures compare it with the <paramref name="live"/> generation.</summary>
    public GenerationInfo Info(double exposure, Generation live) => new()
    {
        Generation = Number,
        State = State,
        Compression = Index?.Codec.Spec ?? Compression.ToString(),
        Index = Index?.Spec ?? IndexSpec.ToString(),
        Ready = Ready,
        Progress = Ready ? 1 : Progress,
        Error = Error,
        CodeSize = Index?.Codec.CodeSize ?? 0,
        IndexBytes = MemoryBytes,
        ExposurePercent = exposure,
        Canary = Canary.Queries > 0 ? Canary.Report(Number, live.Number, MemoryBytes, live.MemoryBytes) : null,
    };
}
