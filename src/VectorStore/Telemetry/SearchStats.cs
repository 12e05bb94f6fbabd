namespace VectorStore.Telemetry;

/// <summary>What one search did, recorded by the search pipeline for its telemetry.</summary>
/// <param name="Exact">Answered by an exact scan (no index yet, or a selective filter) rather than the index.</param>
/// <param name="Reranked">Candidates re-scored against full-precision vectors (0 without re-ranking).</param>
/// <param name="Plan">How a filter was answered (<see cref="FilterPlan.None"/> without one).</param>
/// <param name="Matches">Live records the filter matched (0 without one).</param>
internal readonly record struct SearchStats(bool Exact, int Reranked, FilterPlan Plan = FilterPlan.None, int Matches = 0);
