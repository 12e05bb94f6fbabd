namespace VectorStore.DependencyInjection;

/// <summary>What <see cref="VectorStoreServiceCollectionExtensions.AddVectorStore"/> opens. Mutable only while configuring.</summary>
public sealed class VectorStoreRegistration
{
    /// <summary>The database directory; null (the default) for an in-memory database.</summary>
    public string? Directory { get; set; }

    /// <summary>The engine's worker threads (<see cref="DatabaseOptions.Threads"/>); 0 (the default) = all cores.</summary>
    public int Threads { get; set; }

    /// <summary>
    /// The database's <c>db.namespace</c> in telemetry (<see cref="DatabaseOptions.TelemetryNamespace"/>); null (the
    /// default) = the directory, or none for an in-memory database.
    /// </summary>
    public string? TelemetryNamespace { get; set; }
}
