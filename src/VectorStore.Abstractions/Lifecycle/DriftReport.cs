namespace VectorStore.Lifecycle;

/// <summary>The drift sensors of a collection's live generation: each signal against its threshold.</summary>
public sealed record DriftReport
{
    /// <summary>The generation whose training distribution the signals compare against.</summary>
    public int Generation { get; init; }

    /// <summary>Whether any signal fired.</summary>
    public bool Drifted => Signals.Any(s => s.Fired);

    /// <summary>Vectors observed since training (or since the sensors were last reset).</summary>
    public long Observed { get; init; }

    /// <summary>Every sensor's reading; empty before the collection is trained.</summary>
    public IReadOnlyList<DriftSignal> Signals { get; init; } = [];

    /// <summary>What the ladder did about drift so far, oldest first (empty when it is off or nothing fired).</summary>
    public IReadOnlyList<string> Actions { get; init; } = [];
}
