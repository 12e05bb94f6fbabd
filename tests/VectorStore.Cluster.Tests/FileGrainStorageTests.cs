using Orleans.Runtime;
using Orleans.Storage;
using VectorStore.Cluster.Hosting;
using VectorStore.Cluster.Layout;
using Xunit;

namespace VectorStore.Cluster.Tests;

[Trait("Category", "Cluster")]
public class FileGrainStorageTests
{
    /// <summary>Runs <paramref name="test"/> with a fresh directory, removed afterwards.</summary>
    private static async Task InTempDirectory(Func<string, Task> test)
    {
        var dir = Path.Combine(Path.GetTempPath(), "vectorstore-cluster-tests", Guid.NewGuid().ToString("N"));
        try { await test(dir); }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public Task RoundTripsALayoutAndRefusesAStaleWriter() => InTempDirectory(async dir =>
    {
        var storage = new FileGrainStorage(dir);
        var id = GrainId.Create("layout", "db/c");
        var layout = LayoutPlanner.Create("db", "c", new CollectionSpec { Dimension = 8, Metric = Metric.Cosine, Compression = "sq8", Index = "flat" }, 3, 2, ["x", "y"], 64);
        var first = new GrainState<LayoutState>(new LayoutState { Layout = layout });
        await storage.WriteStateAsync("layout", id, first);
        Assert.Equal("1", first.ETag);

        var read = new GrainState<LayoutState>();
        await new FileGrainStorage(dir).ReadStateAsync("layout", id, read);
        Assert.True(read.RecordExists);
        Assert.Equal("1", read.ETag);
        var back = read.State!.Layout!;
        Assert.Equal(layout.SlotToShard, back.SlotToShard);
        Assert.Equal(layout.Shards.Select(p => p.Primary + "/" + string.Join(",", p.Replicas)), back.Shards.Select(p => p.Primary + "/" + string.Join(",", p.Replicas)));
        Assert.Equal(Metric.Cosine, back.Spec.Metric);

        await storage.WriteStateAsync("layout", id, read);  // read at 1: accepted, now 2
        Assert.Equal("2", read.ETag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("layout", id, first)); // still at 1
        await storage.ClearStateAsync("layout", id, read);
        var gone = new GrainState<LayoutState>();
        await storage.ReadStateAsync("layout", id, gone);
        Assert.False(gone.RecordExists);
    });

    [Fact]
    public Task ADamagedFileIsATypedRefusalNamingIt() => InTempDirectory(async dir =>
    {
        var storage = new FileGrainStorage(dir);
        var id = GrainId.Create("layout", "db/d");
        await storage.WriteStateAsync("layout", id, new GrainState<LayoutState>(new LayoutState()));
        var file = Directory.GetFiles(dir, "*.json").Single();
        File.WriteAllText(file, "{ not json");
        var e = await Assert.ThrowsAsync<StoreCorruptedException>(() => storage.ReadStateAsync("layout", id, new GrainState<LayoutState>()));
        Assert.Contains(Path.GetFileName(file), e.Message);
    });
}
