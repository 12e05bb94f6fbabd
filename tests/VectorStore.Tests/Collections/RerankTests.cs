using VectorStore.Collections;
using VectorStore.Distance;
using VectorStore.Evaluation;
using Xunit;

namespace VectorStore.Tests.Collections;

/// <summary>What re-ranking promises users: the returned scores are the exact full-precision ones.</summary>
public class RerankTests
{
    [Theory]
    [InlineData(Metric.Cosine)]
    [InlineData(Metric.L2)]
    public void RerankingEveryCandidateReturnsTheExactTopKWithExactScores(Metric metric)
    {
        const int n = 1500, dim = 48, k = 10;
        var data = SyntheticData.Clustered(n + 20, dim, seed: 5, normalize: metric == Metric.Cosine);
        var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("r", new CollectionOptions { Dimension = dim, Metric = metric, Compression = "pq:8x4", Index = "flat", TrainingThreshold = 1000 });
        c.UpsertBatch(Enumerable.Range(0, n).Select(i => (ulong)i).ToArray(), data.Slice(0, n));
        Assert.NotNull(c.Index);
        var stored = Enumerable.Range(0, n).Select(i => c.Get((ulong)i)!.Vector).ToArray();
        var kind = metric.ToDistanceKind();
        for (int t = 0; t < 20; t++)
        {
            var q = data.Row(n + t).ToArray();
            if (metric == Metric.Cosine) Distances.Normalize(q);
            // Depth ≥ n: every vector is a candidate, so the answer must be the exact top k.
            var hits = c.Search(data.Row(n + t), new SearchOptions { K = k, Rerank = n });
            var exact = Enumerable.Range(0, n).Select(i => (Id: (ulong)i, D: Distances.Compute(kind, q, stored[i])))
                .OrderBy(x => x.D).ThenBy(x => x.Id).Take(k).ToArray();
            Assert.Equal(exact.Select(x => x.Id), hits.Select(h => h.Id));
            Assert.Equal(exact.Select(x => metric.ToScore(x.D)), hits.Select(h => h.Score));
        }
    }
}
