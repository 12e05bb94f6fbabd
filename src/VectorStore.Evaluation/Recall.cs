using VectorStore.Distance;
using VectorStore.Indexing;

namespace VectorStore.Evaluation;

/// <summary>Recall and ranking quality measures.</summary>
public static class Recall
{
    /// <summary>|found[..k] ∩ truth[..k]| / min(k, |truth|) averaged over queries (the contract's <c>recall_at_k</c>).</summary>
    public static double AtK(IReadOnlyList<long[]> found, IReadOnlyList<int[]> truth, int k)
    {
        if (found.Count != truth.Count) throw new InvalidArgumentException($"{found.Count} result rows for {truth.Count} ground-truth rows");
        double sum = 0;
        for (int q = 0; q < found.Count; q++)
        {
            var t = new HashSet<long>();
            for (int i = 0; i < Math.Min(k, truth[q].Length); i++) t.Add(truth[q][i]);
            int hit = 0;
            for (int i = 0; i < Math.Min(k, found[q].Length); i++) if (t.Contains(found[q][i])) hit++;
            // A filtered truth may hold fewer than k rows (fewer records match): finding all of them is recall 1.
            int wanted = Math.Min(k, truth[q].Length);
            sum += wanted == 0 ? 1 : (double)hit / wanted;
        }
        return found.Count == 0 ? 0 : sum / found.Count;
    }
}
