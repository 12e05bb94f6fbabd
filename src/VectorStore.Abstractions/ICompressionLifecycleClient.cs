using VectorStore.Collections;
using VectorStore.Lifecycle;

namespace VectorStore;

/// <summary>
/// An <see cref="IVectorDatabaseClient"/> that manages a collection's compression generations: build a candidate
/// from the stored full-precision vectors, compare it with the live one (canary), expose it to a share of traffic,
/// promote it, roll back, and read the drift sensors. The in-process client and the TCP client implement it.
/// Thread-safety: as the client.
/// </summary>
public interface ICompressionLifecycleClient : IVectorDatabaseClient
{
    /// <summary>
    /// Declares a candidate generation with <paramref name="compression"/> and <paramref name="index"/> (validated like
    /// <see cref="CollectionOptions"/>) and builds it in the background while the collection serves and takes writes;
    /// with <paramref name="wait"/> returns only when it is ready (or throws why it failed). Returns its number.
    /// </summary>
    Task<int> BuildGenerationAsync(string name, string compression, string index, bool wait = true, CancellationToken cancellationToken = default);

    /// <summary>Every generation of the collection, oldest first.</summary>
    Task<IReadOnlyList<GenerationInfo>> ListGenerationsAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Answers <paramref name="queries"/> with the live generation, with <paramref name="generation"/> and exactly, and
    /// compares them (an offline canary; it does not touch the live-traffic canary's figures).
    /// </summary>
    Task<CanaryReport> RunCanaryAsync(string name, int generation, VectorMatrix queries, SearchOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Starts (replacing any) the shadow canary on live traffic.</summary>
    Task StartCanaryAsync(string name, CanarySettings settings, CancellationToken cancellationToken = default);

    /// <summary>Stops the shadow canary; its figures stay in <see cref="GenerationInfo.Canary"/>.</summary>
    Task StopCanaryAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Serves <paramref name="percent"/> % of the searches that carry a <see cref="SearchOptions.ExposureKey"/> with
    /// candidate <paramref name="generation"/> (chosen by a stable hash of the key); 0 ends the exposure.
    /// </summary>
    Task SetExposureAsync(string name, int generation, double percent, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes ready candidate <paramref name="generation"/> live in one atomic, durable step; the live one is retired
    /// (kept for rollback). With a <paramref name="gate"/>, refuses unless the live-traffic canary passes it.
    /// </summary>
    Task PromoteAsync(string name, int generation, PromotionGate? gate = null, CancellationToken cancellationToken = default);

    /// <summary>Makes the newest retired generation live again (no retraining); returns its number.</summary>
    Task<int> RollbackAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Drops retired generations beyond the policy's retention and failed candidates; returns how many.</summary>
    Task<int> CollectGenerationsAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Sets what the collection does by itself about drift and generations.</summary>
    Task SetLifecyclePolicyAsync(string name, LifecyclePolicy policy, CancellationToken cancellationToken = default);

    /// <summary>
    /// What the collection does by itself about drift and generations: the policy last set (the defaults when none
    /// was), so a change can start from it rather than from the defaults.
    /// </summary>
    /// <remarks>Added after 0.3.0: the default, for implementations built before it, throws <see cref="NotSupportedException"/>.</remarks>
    Task<LifecyclePolicy> GetLifecyclePolicyAsync(string name, CancellationToken cancellationToken = default) =>
        Task.FromException<LifecyclePolicy>(new NotSupportedException($"{GetType().Name} does not read a lifecycle policy back"));

    /// <summary>The drift sensors of the live generation.</summary>
    Task<DriftReport> GetDriftAsync(string name, CancellationToken cancellationToken = default);
}
