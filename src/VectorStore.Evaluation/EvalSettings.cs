using VectorStore.Collections;

namespace VectorStore.Evaluation;

/// <summary>
/// What to build and how to measure it: the one settings record of <c>eval</c> (<see cref="EvalRunner"/>),
/// <c>report</c> (<see cref="ReportRunner"/>, which varies <see cref="Compression"/> per variant) and <c>demo</c>.
/// Immutable, so thread-safe.
/// </summary>
/// <remarks>
/// Threads: <see cref="Threads"/> is the concurrency of the timed search, a property of the measurement;
/// <see cref="Database"/>'s <see cref="DatabaseOptions.Threads"/> is the engine's, used for training, encoding, index
/// construction and exact ground truth (the thread rule of <see cref="DatabaseOptions"/>). 0 means all cores in both.
/// </remarks>
public sealed record EvalSettings
{
    /// <summary>Metric. Default L2 (the <c>eval</c> command's default; <c>report</c> and <c>demo</c> default to cosine).</summary>
    public Metric Metric { get; init; } = Metric.L2;

    /// <summary>Compression spec. Default <c>none</c>. A report replaces it per variant.</summary>
    public string Compression { get; init; } = "none";

    /// <summary>Index spec. Default <c>flat</c>.</summary>
    public string Index { get; init; } = "flat";

    /// <summary>Results per query. Default 10.</summary>
    public int K { get; init; } = 10;

    /// <summary>Re-rank depth (0 = none). Default 0.</summary>
    public int Rerank { get; init; }

    /// <summary>
    /// Automatic settings when <see cref="Rerank"/> is 0: the re-rank depth, and the IVF nprobe unless a sweep point
    /// or <see cref="NProbe"/> fixes it, reaching this recall@k on a held-out sample of the base vectors
    /// (<see cref="Collection.TuneSearch"/>). Default 0 (off).
    /// </summary>
    public double TargetRecall { get; init; }

    /// <summary>
    /// With <see cref="TargetRecall"/>: queries to tune on instead of held-out base vectors
    /// (<see cref="Collection.TuneSearchOnQueries"/>), which also lets the HNSW beam be
    /// tuned. Keep them apart from the measured queries, or the recall measured is the recall tuned for. Default none.
    /// </summary>
    public VectorMatrix? TuneQueries { get; init; }

    /// <summary>HNSW beam width of a measurement without a sweep point (0 = index default). Default 0.</summary>
    public int Ef { get; init; }

    /// <summary>IVF lists probed by a measurement without a sweep point (0 = index default). Default 0.</summary>
    public int NProbe { get; init; }

    /// <summary>
    /// Threads of the timed search (0 = all cores). Default 1. A report always measures one thread as well and runs
    /// its second, all-threads pass on this many.
    /// </summary>
    public int Threads { get; init; } = 1;

    /// <summary>Minimum wall time of each throughput pass, in seconds. Default 1.</summary>
    public double MinSeconds { get; init; } = 1.0;

    /// <summary>Training/construction seed. Default 42.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Settings of the in-memory database every build runs in; its threads build and compute ground truth. Default: all cores.</summary>
    public DatabaseOptions Database { get; init; } = new();

    /// <summary>
    /// Where the collection keeps its full-precision vectors. Default <see cref="RawVectorResidency.Ram"/> (an
    /// in-memory database); <see cref="RawVectorResidency.Disk"/> builds in a temporary database directory, seals
    /// every vector into segments before measuring, and deletes the directory when the process exits.
    /// </summary>
    public RawVectorResidency RawVectors { get; init; } = RawVectorResidency.Ram;

    /// <summary>The second-stage code (<c>rq:B</c> or <c>sq8</c>, <see cref="Collections.CollectionOptions.Refine"/>). Default none.</summary>
    public string? Refine { get; init; }

    /// <summary>Declared fields of the built collection (with <see cref="FieldValues"/>). Default none.</summary>
    public IReadOnlyList<Filtering.FieldDefinition>? Fields { get; init; }

    /// <summary>Per base row its field values (row i for vector i), or null. Default none.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, Filtering.FieldValue>>? FieldValues { get; init; }

    /// <summary>The thread count <paramref name="threads"/> stands for: itself when positive, else every core.</summary>
    public static int Resolve(int threads) => threads > 0 ? threads : Environment.ProcessorCount;

    /// <summary>The search parameter a measurement without a sweep uses: <see cref="Ef"/>, else <see cref="NProbe"/>, else none.</summary>
    public SweepPoint DefaultPoint => Ef > 0 ? new SweepPoint("ef", Ef) : NProbe > 0 ? new SweepPoint("nprobe", NProbe) : new SweepPoint("none", 0);
}
