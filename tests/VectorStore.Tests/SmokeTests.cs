using VectorStore.Collections;
using Xunit;

namespace VectorStore.Tests;

public class SmokeTests
{
    [Fact]
    public void InMemoryCollectionFindsItsOwnVector()
    {
        using var db = VectorDatabase.CreateInMemory();
        var c = db.CreateCollection("c", new CollectionOptions { Dimension = 4, Metric = Metric.L2, Compression = "none" });
        c.Upsert(7, [1, 2, 3, 4]);
        c.Upsert(9, [4, 3, 2, 1]);
        var hits = c.Search([1, 2, 3, 4.1f], new SearchOptions { K = 1 });
        Assert.Equal(7UL, Assert.Single(hits).Id);
    }
}
