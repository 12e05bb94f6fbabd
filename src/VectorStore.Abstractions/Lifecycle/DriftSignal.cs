namespace VectorStore.Lifecycle;

/// <summary>One drift sensor's reading.</summary>
/// <param name="Name">The sensor (<c>reconstruction_error</c>, <c>clip_rate</c>, <c>code_usage_psi</c>, <c>list_imbalance</c>, <c>centroid_distance_p90</c>, <c>mean_shift</c>, <c>mmd</c>, …).</param>
/// <param name="Value">Its current value (over the recent inserts it has seen).</param>
/// <param name="Threshold">The value at or above which it fires.</param>
/// <param name="Baseline">
/// The same statistic on the training sample, when it has one (NaN otherwise). For a statistic whose no-drift value
/// depends on how many vectors it summarizes (<c>code_usage_psi</c>, <c>list_imbalance</c>,
/// <c>index_list_imbalance</c>, <c>mean_shift</c>, <c>mmd</c>) it is the value a sample of that size drawn from the
/// training distribution shows on average, and the threshold is set against it.
/// </param>
public sealed record DriftSignal(string Name, double Value, double Threshold, double Baseline)
{
    /// <summary>Whether the sensor fires.</summary>
    public bool Fired => Value >= Threshold;
}
