using VectorStore.Collections;
using VectorStore.Evaluation;
using Xunit;

namespace VectorStore.Tests.Indexing.Flat;

/// <summary>
/// A flat index's first chunk of codes grows by doubling, and the outgrown array's pages go back to the system at once
/// (<c>HugePageArray.Discard</c>): every code must have moved into the new array first, or a search would score zeros.
/// </summary>
public sealed class FlatGrowthTests
{
    [Theory]
    [InlineData("none")]
    [InlineData("sq8")]
    [InlineData("pq:16x4")]
    public void EveryVectorIsStillFoundAfterManyGrowths(string compression)
    {
        const int dim = 64, count = 6000;
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", new CollectionOptions { Dimension = dim, Compression = compression, Index = "flat", TrainingThreshold = 300 });
        var data = SyntheticData.Clustered(count, dim, seed: 3);
        // One at a time after training: each growth copies and discards the previous array.
        c.UpsertBatch(Enumerable.Range(0, 300).Select(i => (ulong)i).ToArray(), data.Slice(0, 300));
        Assert.NotNull(c.Index);
        for (int i = 300; i < count; i++) c.Upsert((ulong)i, data.Row(i));
        int found = 0;
        for (int i = 0; i < count; i += 37)
        {
            var hits = c.Search(data.Row(i), new SearchOptions { K = 10, Rerank = 1000 });
            if (hits.Any(h => h.Id == (ulong)i)) found++;
        }
        int probes = (count + 36) / 37;
        Assert.True(found == probes, $"{compression}: {found} of {probes} stored vectors found among their own top 10");
    }
}
