using VectorStore.Collections;
using VectorStore.Telemetry;

namespace VectorStore;

/// <summary>The database's telemetry: one set of instruments shared by its collections and stores.</summary>
public sealed partial class VectorDatabase
{
    private readonly EngineTelemetry _telemetry;

    private EngineTelemetry CreateTelemetry() =>
        EngineTelemetry.Create(Options.MeterFactory, Options.LoggerFactory, Options.TelemetryNamespace ?? Directory, SampleCollections);

    /// <summary>Gives a collection (and its store, when persistent) this database's instruments. Called under <c>_gate</c>.</summary>
    private void Adopt(Collection collection)
    {
        collection.Instruments = _telemetry;
        if (_stores.TryGetValue(collection.Name, out var store)) store.Instruments = _telemetry;
    }

    /// <summary>The observable gauges' callback: sizes of every open collection (stats taken outside the database gate).</summary>
    private IEnumerable<CollectionGauge> SampleCollections()
    {
        Collection[] open;
        lock (_gate)
        {
            if (_closed) return [];
            open = _collections.Values.ToArray();
        }
        var gauges = new List<CollectionGauge>(open.Length);
        foreach (var c in open)
        {
            try
            {
                var stats = c.GetStats();
                gauges.Add(new CollectionGauge(c.Name, stats.ResidentBytes, stats.Count));
            }
            catch (ObjectDisposedException)
            {
                // Dropped between the copy and the sample: it holds nothing any more.
            }
        }
        return gauges;
    }
}
