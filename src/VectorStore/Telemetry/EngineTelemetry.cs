using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static VectorStore.Telemetry.VectorStoreTelemetry;

namespace VectorStore.Telemetry;

/// <summary>
/// One database's instruments, logger and the shared activity source. Thread-safe: instruments and loggers are.
/// Recording methods first check whether anything listens, so an unobserved database pays a few field reads.
/// </summary>
internal sealed class EngineTelemetry : IDisposable
{
    internal static readonly ActivitySource Source = new(ActivitySourceName, typeof(EngineTelemetry).Assembly.GetName().Version?.ToString());

    // OpenTelemetry's recommended boundaries for db.client.operation.duration, in seconds.
    private static readonly double[] SecondsBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

    /// <summary>For collections outside a database (tests, benchmarks): a meter nobody is told the name of.</summary>
    public static readonly EngineTelemetry Detached = new(new Meter(MeterName + ".Detached"), ownsMeter: true, NullLogger.Instance, null, static () => []);

    private readonly Meter _meter;
    private readonly bool _ownsMeter;

    /// <summary>
    /// Instruments on a meter from <paramref name="factory"/> (owned by it) or on a new meter of our own, whose
    /// measurements and spans carry <paramref name="dbNamespace"/> as <c>db.namespace</c> (null or empty: none).
    /// </summary>
    public static EngineTelemetry Create(IMeterFactory? factory, ILoggerFactory? loggers, string? dbNamespace, Func<IEnumerable<CollectionGauge>> sample)
    {
        string? version = typeof(EngineTelemetry).Assembly.GetName().Version?.ToString();
        var meter = factory is null ? new Meter(MeterName, version) : factory.Create(new MeterOptions(MeterName) { Version = version });
        return new EngineTelemetry(meter, ownsMeter: factory is null, loggers?.CreateLogger("VectorStore") ?? NullLogger.Instance, dbNamespace, sample);
    }

    private EngineTelemetry(Meter meter, bool ownsMeter, ILogger logger, string? dbNamespace, Func<IEnumerable<CollectionGauge>> sample)
    {
        _meter = meter;
        _ownsMeter = ownsMeter;
        Logger = logger;
        Namespace = string.IsNullOrEmpty(dbNamespace) ? null : dbNamespace;
        var seconds = new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets };
        OperationDurationHistogram = meter.CreateHistogram(OperationDuration, "s", "Duration of database operations.", advice: seconds);
        ReturnedRowsHistogram = meter.CreateHistogram<long>(ReturnedRows, "{row}", "Rows returned by a search or a get.");
        SearchDurationHistogram = meter.CreateHistogram(SearchDuration, "s", "Search latency by index kind and path.", advice: seconds);
        RerankedHistogram = meter.CreateHistogram<int>(SearchReranked, "{candidate}", "Candidates re-scored with full-precision vectors per search.");
        DiskReadsHistogram = meter.CreateHistogram<int>(SearchDiskReads, "{vector}", "Full-precision vectors read from segment files per search.");
        UpsertedCounter = meter.CreateCounter<long>(VectorsUpserted, "{vector}", "Vectors upserted.");
        DeletedCounter = meter.CreateCounter<long>(VectorsDeleted, "{vector}", "Vectors deleted.");
        DriftCounter = meter.CreateCounter<long>(VectorStoreTelemetry.DriftEvents, "{event}", "Drift detections on a live generation.");
        SwitchCounter = meter.CreateCounter<long>(VectorStoreTelemetry.GenerationSwitches, "{switch}", "Compression generations made live (promote or rollback).");
        TrainingHistogram = meter.CreateHistogram(TrainingDuration, "s", "Codec training and index construction.", advice: seconds);
        CheckpointHistogram = meter.CreateHistogram(CheckpointDuration, "s", "Checkpoints (seal, snapshot, publish, truncate).", advice: seconds);
        // The histograms and counters above are the meter's own when it already has them (a Meter returns the
        // instrument it made for the same name, unit and description); observable gauges are not shared that way.
        _sample = sample;
        _gauges = MeterGauges.Of(meter);
        _gauges.Add(Namespace, sample);
    }

    // The database's sampler, reported by the meter's gauges until Dispose. A meter from a factory is shared by every
    // database of that factory and outlives them: the gauges would otherwise keep a closed database, with its indexes,
    // reachable for as long as the factory lives.
    private readonly Func<IEnumerable<CollectionGauge>> _sample;
    private readonly MeterGauges _gauges;

    public ILogger Logger { get; }

    /// <summary>The database's <c>db.namespace</c>, or null for none.</summary>
    public string? Namespace { get; }

    /// <summary>The tags of every measurement and span about <paramref name="collection"/>: system, namespace (if any), collection.</summary>
    public TagList CollectionTags(string collection) => CollectionTags(Namespace, collection);

    /// <inheritdoc cref="CollectionTags(string)"/>
    /// <remarks>For the per-meter gauges, which report the collections of several databases.</remarks>
    public static TagList CollectionTags(string? dbNamespace, string collection)
    {
        var tags = new TagList { { SystemNameAttribute, SystemName } };
        if (dbNamespace is not null) tags.Add(NamespaceAttribute, dbNamespace);
        tags.Add(CollectionNameAttribute, collection);
        return tags;
    }

    private void TagSpan(Activity activity, string collection)
    {
        foreach (var tag in CollectionTags(collection)) activity.SetTag(tag.Key, tag.Value);
    }
    public Histogram<double> OperationDurationHistogram { get; }
    public Histogram<long> ReturnedRowsHistogram { get; }
    public Histogram<double> SearchDurationHistogram { get; }
    public Histogram<int> RerankedHistogram { get; }
    public Histogram<int> DiskReadsHistogram { get; }
    public Counter<long> UpsertedCounter { get; }
    public Counter<long> DeletedCounter { get; }
    public Counter<long> DriftCounter { get; }
    public Counter<long> SwitchCounter { get; }
    public Histogram<double> TrainingHistogram { get; }
    public Histogram<double> CheckpointHistogram { get; }

    /// <summary>Starts timing a client operation; inert (no clock read, no span) when nothing listens.</summary>
    public OperationScope StartOperation(string operation, string collection)
    {
        bool metrics = OperationDurationHistogram.Enabled || UpsertedCounter.Enabled || DeletedCounter.Enabled || ReturnedRowsHistogram.Enabled
            || (operation == DbOperations.Search && (SearchDurationHistogram.Enabled || RerankedHistogram.Enabled || DiskReadsHistogram.Enabled));
        Activity? activity = null;
        if (Source.HasListeners())
        {
            activity = Source.StartActivity($"{operation} {collection}", ActivityKind.Client);
            if (activity is { IsAllDataRequested: true })
            {
                TagSpan(activity, collection);
                activity.SetTag(OperationNameAttribute, operation);
            }
        }
        return metrics || activity is not null ? new OperationScope(this, operation, collection, Stopwatch.GetTimestamp(), activity) : default;
    }

    /// <summary>
    /// Times one query of a batched search from <paramref name="started"/> (its chunk's start) for the metrics only:
    /// the queries of a chunk are scored interleaved, so none has a span of its own. Inert when no search metric listens.
    /// </summary>
    public OperationScope StartBatchedSearch(string collection, long started)
    {
        bool metrics = OperationDurationHistogram.Enabled || ReturnedRowsHistogram.Enabled || SearchDurationHistogram.Enabled
            || RerankedHistogram.Enabled || DiskReadsHistogram.Enabled;
        return metrics ? new OperationScope(this, DbOperations.Search, collection, started, null) : default;
    }

    /// <summary>Starts timing a background task (training, checkpoint) with its span; inert when nothing listens.</summary>
    public TaskScope StartTask(Histogram<double> histogram, string spanName, string collection)
    {
        var activity = Source.HasListeners() ? Source.StartActivity($"{spanName} {collection}", ActivityKind.Internal) : null;
        if (activity is { IsAllDataRequested: true }) TagSpan(activity, collection);
        return new TaskScope(Stopwatch.GetTimestamp(), histogram, activity);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _gauges.Remove(_sample);
        if (_ownsMeter) _meter.Dispose();
    }
}
