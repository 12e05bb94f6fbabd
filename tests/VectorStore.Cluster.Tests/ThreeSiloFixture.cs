using Xunit;

namespace VectorStore.Cluster.Tests;

/// <summary>One 3-silo cluster shared by the tests that do not change membership (starting one costs seconds).</summary>
public sealed class ThreeSiloFixture : IAsyncLifetime
{
    public ClusterHarness Harness { get; private set; } = null!;

    public async Task InitializeAsync() => Harness = await ClusterHarness.StartAsync(3);

    public async Task DisposeAsync() => await Harness.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class ThreeSilos : ICollectionFixture<ThreeSiloFixture>
{
    public const string Name = "three silos";
}
