namespace VectorStore.Lifecycle;

/// <summary>The drift sensors of a collection's live generation: each signal against its threshold.</summary>
public sealed record DriftReport
{
    /// <summary>The generation whose training distribution the signals compare against.</summary>
    public int Generation { get; init; }

    /// <summary>Whether any signal fired. Always false without sensors (<see cref="Sensors"/>): not a healthy reading then.</summary>
    public bool Drifted => Signals.Any(s => s.Fired);

    /// <summary>
    /// Whether the live generation has drift sensors at all; null when not known (a server of protocol version 6 or
    /// earlier does not say). A generation trained on fewer than 8,000 vectors gets none, nor does an untrained one.
    /// </summary>
    public bool? Sensors { get; init; }

    /// <summary>Why the live generation has no drift sensors (when <see cref="Sensors"/> is false); null otherwise.</summary>
    public string? NoSensorsReason { get; init; }

    /// <summary>Vectors observed since training (or since the sensors were last reset).</summary>
    public long Observed { get; init; }

    /// <summary>Every sensor's reading; empty before the collection is trained.</summary>
    public IReadOnlyList<DriftSignal> Signals { get; init; } = [];

    /// <summary>What the ladder did about drift so far, oldest first (empty when it is off or nothing fired).</summary>
    public IReadOnlyList<string> Actions { get; init; } = [];
}
