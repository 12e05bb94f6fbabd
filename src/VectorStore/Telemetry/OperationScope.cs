using System.Diagnostics;
using static VectorStore.Telemetry.VectorStoreTelemetry;

namespace VectorStore.Telemetry;

/// <summary>
/// One client operation being measured (<see cref="EngineTelemetry.StartOperation"/>). The default value is inert:
/// every method returns at once, so callers need no branch of their own.
/// </summary>
internal readonly struct OperationScope(EngineTelemetry telemetry, string operation, string collection, long started, Activity? activity)
{
    /// <summary>Whether anything listens (false for the default value).</summary>
    public bool Active => telemetry is not null;

    /// <summary>Records a successful operation that touched <paramref name="rows"/> vectors (upserted, deleted or returned).</summary>
    public void Succeeded(int rows)
    {
        if (telemetry is null) return;
        var t = telemetry;
        var tags = BaseTags();
        t.OperationDurationHistogram.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        switch (operation)
        {
            case DbOperations.Upsert: t.UpsertedCounter.Add(rows, CollectionTags()); break;
            case DbOperations.Delete: t.DeletedCounter.Add(rows, CollectionTags()); break;
            default: t.ReturnedRowsHistogram.Record(rows, tags); break;
        }
        activity?.Dispose();
    }

    /// <summary>Records a successful search with what the pipeline did.</summary>
    public void SearchSucceeded(int hits, SearchStats stats, string indexKind, string rawVectors, long diskReads)
    {
        if (telemetry is null) return;
        var t = telemetry;
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var tags = BaseTags();
        t.OperationDurationHistogram.Record(seconds, tags);
        t.ReturnedRowsHistogram.Record(hits, tags);
        var collectionTags = CollectionTags();
        if (t.SearchDurationHistogram.Enabled)
        {
            var product = collectionTags;
            product.Add(IndexKindAttribute, indexKind);
            product.Add(SearchPathAttribute, stats.Exact ? "exact" : "index");
            t.SearchDurationHistogram.Record(seconds, product);
        }
        if (t.RerankedHistogram.Enabled) t.RerankedHistogram.Record(stats.Reranked, collectionTags);
        if (t.DiskReadsHistogram.Enabled)
        {
            var reads = collectionTags;
            reads.Add(RawVectorsAttribute, rawVectors);
            t.DiskReadsHistogram.Record((int)Math.Min(int.MaxValue, diskReads), reads);
        }
        activity?.SetTag("vectorstore.search.reranked", stats.Reranked);
        activity?.Dispose();
    }

    /// <summary>Records a failed operation: its duration with <c>error.type</c>, and an error status on the span.</summary>
    public void Failed(Exception error)
    {
        if (telemetry is null) return;
        string type = error is OperationCanceledException ? "cancelled" : error.GetType().FullName ?? error.GetType().Name;
        var tags = BaseTags();
        tags.Add(ErrorTypeAttribute, type);
        telemetry.OperationDurationHistogram.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
        if (activity is not null)
        {
            activity.SetTag(ErrorTypeAttribute, type);
            activity.SetStatus(ActivityStatusCode.Error, error.Message);
            activity.Dispose();
        }
    }

    private TagList BaseTags()
    {
        var tags = CollectionTags();
        tags.Add(OperationNameAttribute, operation);
        return tags;
    }

    private TagList CollectionTags() => telemetry.CollectionTags(collection);
}
