namespace VectorStore.Telemetry;

/// <summary>
/// Names of the engine's telemetry: the <see cref="System.Diagnostics.Metrics.Meter"/> and
/// <see cref="System.Diagnostics.ActivitySource"/> to subscribe to (OpenTelemetry: <c>AddMeter(MeterName)</c>,
/// <c>AddSource(ActivitySourceName)</c>), and every instrument and attribute name. The <c>db.*</c> names follow the
/// OpenTelemetry database client semantic conventions; <c>vectorstore.*</c> names are the engine's own.
/// </summary>
/// <remarks>
/// Every instrument is created on each database's meter (from <see cref="DatabaseOptions.MeterFactory"/> when set,
/// else one meter of this name per database). Nothing is measured, and no tag list or timestamp is built, while no
/// listener has enabled an instrument and no listener samples the activity source. A server hosts the engine, so a
/// server process exposes the same instruments.
/// </remarks>
public static class VectorStoreTelemetry
{
    /// <summary>Name of the meter and of the activity source.</summary>
    public const string MeterName = "VectorStore";

    /// <summary>Name of the activity source (spans: search, upsert, delete, get, train, checkpoint).</summary>
    public const string ActivitySourceName = "VectorStore";

    /// <summary>Value of <see cref="SystemNameAttribute"/>.</summary>
    public const string SystemName = "vectorstore";

    /// <summary>Histogram, seconds: duration of each database operation (OpenTelemetry convention).</summary>
    public const string OperationDuration = "db.client.operation.duration";

    /// <summary>Histogram, rows: hits returned by a search or records by a get (OpenTelemetry convention).</summary>
    public const string ReturnedRows = "db.client.response.returned_rows";

    /// <summary>Histogram, seconds: search latency by index kind and path (exact scan or index).</summary>
    public const string SearchDuration = "vectorstore.search.duration";

    /// <summary>Histogram, candidates: candidates re-scored with full-precision vectors per search.</summary>
    public const string SearchReranked = "vectorstore.search.reranked";

    /// <summary>Histogram, vectors: full-precision vectors read from segment files per search (0 with RAM residency).</summary>
    public const string SearchDiskReads = "vectorstore.search.disk_reads";

    /// <summary>Counter, vectors: vectors upserted (its rate is the ingest rate).</summary>
    public const string VectorsUpserted = "vectorstore.vectors.upserted";

    /// <summary>Counter, vectors: vectors deleted.</summary>
    public const string VectorsDeleted = "vectorstore.vectors.deleted";

    /// <summary>Histogram, seconds: codec training plus index construction.</summary>
    public const string TrainingDuration = "vectorstore.training.duration";

    /// <summary>Histogram, seconds: checkpoints (seal, snapshot, publish, log truncation), background ones included.</summary>
    public const string CheckpointDuration = "vectorstore.checkpoint.duration";

    /// <summary>Counter, events: drift detections (a live generation's sensors firing for the first time), by collection.</summary>
    public const string DriftEvents = "vectorstore.drift.events";

    /// <summary>Counter, switches: compression generations made live (promotions and rollbacks), by collection.</summary>
    public const string GenerationSwitches = "vectorstore.generation.switches";

    /// <summary>Observable gauge, bytes: what each collection holds in process memory (<c>CollectionStats.ResidentBytes</c>).</summary>
    public const string ResidentBytes = "vectorstore.collection.resident_bytes";

    /// <summary>Observable gauge, vectors: live vectors per collection.</summary>
    public const string VectorCount = "vectorstore.collection.vectors";

    /// <summary>Attribute: the database system (<see cref="SystemName"/>).</summary>
    public const string SystemNameAttribute = "db.system.name";

    /// <summary>
    /// Attribute: the database a collection belongs to (<c>DatabaseOptions.TelemetryNamespace</c>; by default a
    /// persistent database's directory). Tells apart same-named collections of databases that share a meter.
    /// </summary>
    public const string NamespaceAttribute = "db.namespace";

    /// <summary>Attribute: the collection.</summary>
    public const string CollectionNameAttribute = "db.collection.name";

    /// <summary>Attribute: the operation (<c>search</c>, <c>upsert</c>, <c>delete</c>, <c>get</c>).</summary>
    public const string OperationNameAttribute = "db.operation.name";

    /// <summary>Attribute: the exception type's full name, on failed operations only.</summary>
    public const string ErrorTypeAttribute = "error.type";

    /// <summary>Attribute: the index family (<c>flat</c>, <c>ivf</c>, <c>hnsw</c>), or <c>none</c> before training.</summary>
    public const string IndexKindAttribute = "vectorstore.index.kind";

    /// <summary>Attribute: how a search was answered, <c>index</c> or <c>exact</c> (untrained, or a selective filter).</summary>
    public const string SearchPathAttribute = "vectorstore.search.path";

    /// <summary>Attribute: where full-precision vectors live, <c>disk</c> or <c>ram</c>.</summary>
    public const string RawVectorsAttribute = "vectorstore.raw_vectors";

    /// <summary>Attribute: whether a checkpoint was a compaction.</summary>
    public const string CompactAttribute = "vectorstore.checkpoint.compact";
}
