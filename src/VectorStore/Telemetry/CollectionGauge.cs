namespace VectorStore.Telemetry;

/// <summary>One collection's sampled sizes, for the observable gauges.</summary>
internal readonly record struct CollectionGauge(string Name, long ResidentBytes, long Vectors);
