using System.Diagnostics;
using VectorStore.Storage;
using VectorStore.Telemetry;

namespace VectorStore.Collections;

/// <summary>
/// The instrumented public entry points: each wraps its core in a scope that measures nothing while nobody listens
/// (<see cref="VectorStoreTelemetry"/>).
/// </summary>
public sealed partial class Collection
{
    /// <summary>The database's instruments (set when the database adopts the collection).</summary>
    internal EngineTelemetry Instruments { get; set; } = EngineTelemetry.Detached;

    /// <summary>The index family for the <c>vectorstore.index.kind</c> attribute (low cardinality: no arguments).</summary>
    private string IndexKind => _index is null ? "none" : _current.IndexSpec.Name;

    /// <summary>
    /// Inserts or replaces a batch atomically with respect to validation: every vector is checked (dimension,
    /// NaN/Infinity, duplicate ids) before anything changes. <paramref name="vectors"/> is not modified.
    /// </summary>
    public void UpsertBatch(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads = null) =>
        UpsertBatch(ids, vectors, payloads, null);

    /// <summary>
    /// <see cref="UpsertBatch(IReadOnlyList{ulong}, VectorMatrix, IReadOnlyList{byte[]})"/> with field values:
    /// <paramref name="fields"/> is null or holds one entry per id (null or empty: no values), naming only declared
    /// fields with values of their declared types; an upsert replaces all values a record had.
    /// </summary>
    public void UpsertBatch(IReadOnlyList<ulong> ids, VectorMatrix vectors, IReadOnlyList<byte[]?>? payloads,
        IReadOnlyList<IReadOnlyDictionary<string, Filtering.FieldValue>?>? fields)
    {
        var op = Instruments.StartOperation(DbOperations.Upsert, Name);
        if (!op.Active)
        {
            UpsertBatchCore(ids, vectors, payloads, fields);
            return;
        }
        try
        {
            UpsertBatchCore(ids, vectors, payloads, fields);
            op.Succeeded(ids.Count);
        }
        catch (Exception e)
        {
            op.Failed(e);
            throw;
        }
    }

    /// <summary>Deletes <paramref name="id"/>; returns false when it was not present.</summary>
    public bool Delete(ulong id)
    {
        var op = Instruments.StartOperation(DbOperations.Delete, Name);
        if (!op.Active) return DeleteCore(id);
        try
        {
            bool present = DeleteCore(id);
            op.Succeeded(present ? 1 : 0);
            return present;
        }
        catch (Exception e)
        {
            op.Failed(e);
            throw;
        }
    }

    /// <summary>The stored vector and payload of <paramref name="id"/>, or null.</summary>
    public VectorRecord? Get(ulong id)
    {
        var op = Instruments.StartOperation(DbOperations.Get, Name);
        if (!op.Active) return GetCore(id);
        try
        {
            var record = GetCore(id);
            op.Succeeded(record is null ? 0 : 1);
            return record;
        }
        catch (Exception e)
        {
            op.Failed(e);
            throw;
        }
    }

    /// <summary>The best <see cref="SearchOptions.K"/> entries for <paramref name="query"/>, best first.</summary>
    public SearchHit[] Search(ReadOnlySpan<float> query, SearchOptions? options = null)
    {
        var op = Instruments.StartOperation(DbOperations.Search, Name);
        if (!op.Active) return SearchCore(query, options);
        long diskReads = SegmentedVectors.ThreadDiskReads;
        try
        {
            var hits = SearchCore(query, options);
            op.SearchSucceeded(hits.Length, _search.Scratch.Stats, IndexKind, Options.RawVectors == RawVectorResidency.Disk ? "disk" : "ram",
                SegmentedVectors.ThreadDiskReads - diskReads);
            return hits;
        }
        catch (Exception e)
        {
            op.Failed(e);
            throw;
        }
    }

    /// <summary>Training with its duration, span and log line (runs under the write lock, as <see cref="TrainIndexLocked"/>).</summary>
    private void TrainLocked()
    {
        var t = Instruments;
        var scope = t.StartTask(t.TrainingHistogram, "train", Name);
        var tags = t.CollectionTags(Name);
        tags.Add(VectorStoreTelemetry.IndexKindAttribute, _current.IndexSpec.Name);
        try
        {
            TrainIndexLocked();
        }
        catch (Exception e)
        {
            scope.End(tags, e);
            Log.TrainingFailed(t.Logger, e, Name);
            throw;
        }
        scope.End(tags);
        Log.TrainingCompleted(t.Logger, Name, _index?.Spec ?? _current.IndexSpec.ToString(), _slots.Count, scope.Elapsed);
    }
}
