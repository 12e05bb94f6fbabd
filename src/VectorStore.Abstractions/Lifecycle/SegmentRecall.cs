namespace VectorStore.Lifecycle;

/// <summary>Recall of one segment of queries or items, as a canary measured it.</summary>
/// <param name="Segment">The segment's key: the query's <c>SearchOptions.Segment</c> tag, or a value of the segment field of the true neighbours.</param>
/// <param name="Queries">Queries (or true neighbours, for an item segment) behind the figures.</param>
/// <param name="RecallLive">Recall@k of the live generation in this segment, against exact search.</param>
/// <param name="RecallCandidate">Recall@k of the candidate in this segment, against exact search.</param>
public sealed record SegmentRecall(string Segment, int Queries, double RecallLive, double RecallCandidate);
