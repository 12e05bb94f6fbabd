using Microsoft.Extensions.Logging;

namespace VectorStore.Telemetry;

/// <summary>The engine's log messages (source-generated: no boxing, and nothing formatted when the level is off).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Collection {Collection}: trained {Index} on {Vectors} vectors in {Seconds:F3} s")]
    public static partial void TrainingCompleted(ILogger logger, string collection, string index, int vectors, double seconds);

    [LoggerMessage(2, LogLevel.Warning, "Collection {Collection}: training failed; searches stay exact until it succeeds")]
    public static partial void TrainingFailed(ILogger logger, Exception error, string collection);

    [LoggerMessage(3, LogLevel.Debug, "Collection {Collection}: checkpoint (compact: {Compact}) in {Seconds:F3} s")]
    public static partial void CheckpointCompleted(ILogger logger, string collection, bool compact, double seconds);

    [LoggerMessage(4, LogLevel.Warning, "Collection {Collection}: checkpoint failed; the write-ahead log still holds every write")]
    public static partial void CheckpointFailed(ILogger logger, Exception error, string collection);

    [LoggerMessage(5, LogLevel.Warning, "Collection {Collection}: building compression generation {Generation} failed")]
    public static partial void GenerationBuildFailed(ILogger logger, Exception error, string collection, int generation);

    [LoggerMessage(6, LogLevel.Information, "Collection {Collection}: generation {Generation} is live (rollback: {Rollback})")]
    public static partial void GenerationPromoted(ILogger logger, string collection, int generation, bool rollback);

    [LoggerMessage(7, LogLevel.Warning, "Collection {Collection}: drift detected on generation {Generation} ({Signals}); action: {Action}")]
    public static partial void DriftDetected(ILogger logger, string collection, int generation, string signals, string action);

    [LoggerMessage(8, LogLevel.Error, "Collection {Collection}: set aside at open, not served (its files could not be opened)")]
    public static partial void CollectionSetAside(ILogger logger, Exception error, string collection);
}
