using System.Diagnostics;
using VectorStore.Telemetry;

namespace VectorStore.Storage;

/// <summary>Checkpoints with their duration, span and log line.</summary>
internal sealed partial class CollectionStore
{
    /// <summary>The database's instruments (set when the database adopts the store).</summary>
    internal EngineTelemetry Instruments { get; set; } = EngineTelemetry.Detached;

    /// <inheritdoc cref="CheckpointCore"/>
    public void Checkpoint(bool compact = false)
    {
        var t = Instruments;
        string name = Entry.Name;
        var scope = t.StartTask(t.CheckpointHistogram, "checkpoint", name);
        var tags = t.CollectionTags(name);
        tags.Add(VectorStoreTelemetry.CompactAttribute, compact);
        try
        {
            CheckpointCore(compact);
        }
        catch (Exception e)
        {
            scope.End(tags, e);
            Log.CheckpointFailed(t.Logger, e, name);
            throw;
        }
        scope.End(tags);
        Log.CheckpointCompleted(t.Logger, name, compact, scope.Elapsed);
    }
}
