using VectorStore.Collections;

namespace VectorStore.Cluster;

/// <summary>
/// Merges per-shard hit lists into one top k in the engine's order: by distance (L2 as is, inner product and cosine
/// negated, NaN last), then by id. Each shard's list is its own top k′ in that order, so the merge of complete
/// lists equals the top k of the union.
/// </summary>
/// <remarks>Thread-safety: stateless.</remarks>
internal static class HitMerger
{
    public static SearchHit[] Merge(IEnumerable<(ulong[] Ids, float[] Scores)> lists, int k, Metric metric)
    {
        var all = new List<(float Distance, ulong Id, float Score)>();
        foreach (var (ids, scores) in lists)
            for (int i = 0; i < ids.Length; i++) all.Add((Distance(scores[i], metric), ids[i], scores[i]));
        all.Sort(static (a, b) => a.Distance != b.Distance ? a.Distance.CompareTo(b.Distance) : a.Id.CompareTo(b.Id));
        int n = Math.Min(k, all.Count);
        var hits = new SearchHit[n];
        for (int i = 0; i < n; i++) hits[i] = new SearchHit(all[i].Id, all[i].Score);
        return hits;
    }

    private static float Distance(float score, Metric metric)
    {
        float d = metric == Metric.L2 ? score : -score;
        return float.IsNaN(d) ? float.PositiveInfinity : d;
    }
}
