namespace VectorStore.Lifecycle;

/// <summary>
/// Conditions a candidate's live-traffic canary must meet before a gated promotion; defaults per property,
/// <see cref="Validate"/> checks them.
/// </summary>
public sealed record PromotionGate
{
    /// <summary>Canary queries answered exactly that the decision needs. Default 200.</summary>
    public int MinExactQueries { get; init; } = 200;

    /// <summary>The candidate's canary recall may be at most this much below the live generation's. Default 0.01.</summary>
    public double MaxRecallLoss { get; init; } = 0.01;

    /// <summary>The candidate's canary p99 latency may be at most this multiple of the live generation's. Default 1.5.</summary>
    public double MaxP99Factor { get; init; } = 1.5;

    /// <summary>Throws <see cref="InvalidArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (MinExactQueries is < 1 or > 10_000_000) throw new InvalidArgumentException($"gate minimum exact queries must be in 1..10000000, got {MinExactQueries}");
        if (!(MaxRecallLoss is >= 0 and <= 1)) throw new InvalidArgumentException($"gate recall loss must be in [0, 1], got {MaxRecallLoss}");
        if (!(MaxP99Factor is >= 1 and <= 1000)) throw new InvalidArgumentException($"gate p99 factor must be in [1, 1000], got {MaxP99Factor}");
    }

    /// <summary>Null when <paramref name="canary"/> passes, else why not.</summary>
    public string? Check(CanaryReport canary)
    {
        if (canary.ExactQueries < MinExactQueries) return $"{canary.ExactQueries} exact canary queries, the gate needs {MinExactQueries}";
        // A figure that is not known (no weight behind it) never passes a comparison by accident.
        if (double.IsNaN(canary.RecallCandidate) || double.IsNaN(canary.RecallLive)) return "the canary has no recall figures yet";
        if (canary.RecallCandidate < canary.RecallLive - MaxRecallLoss)
            return $"candidate recall {canary.RecallCandidate:F4} is more than {MaxRecallLoss} below live {canary.RecallLive:F4}";
        if (canary.CandidateP99Ms > canary.LiveP99Ms * MaxP99Factor)
            return $"candidate p99 {canary.CandidateP99Ms:F3} ms exceeds {MaxP99Factor}x live {canary.LiveP99Ms:F3} ms";
        return null;
    }
}
