namespace VectorStore.Lifecycle;

/// <summary>
/// What a collection does on its own about compression generations and drift. Defaults are documented per property
/// (all automatic steps off); <see cref="Validate"/> checks them.
/// </summary>
public sealed record LifecyclePolicy
{
    /// <summary>
    /// Retired generations kept (current with writes) for rollback, and as many generations rolled back from live;
    /// older ones are dropped by gc. Default 1.
    /// </summary>
    public int RetainRetired { get; init; } = 1;

    /// <summary>
    /// Ladder step 1: when a drift signal fires, recalibrate what can be repaired in place (IVF lists rebalanced
    /// against the data as it now is). Default false.
    /// </summary>
    public bool RebalanceOnDrift { get; init; }

    /// <summary>
    /// Ladder step 2: when drift persists after step 1, train a candidate generation with the live specs on a fresh
    /// sample of all current data (this recalibrates sq8 ranges, PQ codebooks and IVF centroids together), then run
    /// the shadow canary on it (<see cref="CanaryRate"/>). Default false.
    /// </summary>
    public bool BuildCandidateOnDrift { get; init; }

    /// <summary>Ladder step 3: promote a drift candidate once its canary passes <see cref="Gate"/>. Default false.</summary>
    public bool PromoteWhenGatePasses { get; init; }

    /// <summary>The sample rate of the canary the ladder starts on its candidate. Default 0.01.</summary>
    public double CanaryRate { get; init; } = 0.01;

    /// <summary>The gate of automatic (and of gated manual) promotions.</summary>
    public PromotionGate Gate { get; init; } = new();

    /// <summary>
    /// Automatic rollback: when the live generation's canary recall (after <see cref="PromotionGate.MinExactQueries"/>
    /// exact queries since it became live) falls below this floor, the previous generation becomes live again.
    /// Null (default) = off.
    /// </summary>
    public double? RollbackRecallFloor { get; init; }

    /// <summary>Vectors per second a background build encodes at most (0 = unthrottled). Default 0.</summary>
    public int BuildVectorsPerSecond { get; init; }

    /// <summary>Throws <see cref="InvalidArgumentException"/> naming the first bad value.</summary>
    public void Validate()
    {
        if (RetainRetired is < 0 or > 16) throw new InvalidArgumentException($"retained generations must be in 0..16, got {RetainRetired}");
        if (!(CanaryRate is > 0 and <= 1)) throw new InvalidArgumentException($"canary rate must be in (0, 1], got {CanaryRate}");
        if (RollbackRecallFloor is { } f && !(f is > 0 and <= 1)) throw new InvalidArgumentException($"rollback recall floor must be in (0, 1], got {f}");
        if (BuildVectorsPerSecond < 0) throw new InvalidArgumentException($"build throttle must not be negative, got {BuildVectorsPerSecond}");
        if (PromoteWhenGatePasses && !BuildCandidateOnDrift) throw new InvalidArgumentException("promoting drift candidates needs BuildCandidateOnDrift");
        Gate.Validate();
    }
}
