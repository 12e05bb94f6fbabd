using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.TestingHost;
using VectorStore.Cluster.Hosting;
using VectorStore.Cluster.Layout;
using VectorStore.Cluster.Shards;

namespace VectorStore.Cluster.Tests;

/// <summary>
/// Silos in this process (<see cref="InProcessTestCluster"/>), each with its own database directory under one temp
/// root and all sharing the file metadata store; membership tuned so a killed silo is declared dead in seconds.
/// </summary>
public sealed class ClusterHarness : IAsyncDisposable
{
    private readonly System.Runtime.CompilerServices.StrongBox<(string? Directory, TimeSpan? Sweep, string? Name)> _next;

    private ClusterHarness(InProcessTestCluster cluster, string root, System.Runtime.CompilerServices.StrongBox<(string?, TimeSpan?, string?)> next)
    {
        Cluster = cluster;
        Root = root;
        _next = next;
    }

    public InProcessTestCluster Cluster { get; }
    public string Root { get; }
    public IGrainFactory Grains => Cluster.Client;

    /// <summary>
    /// Starts a silo on <paramref name="dataDirectory"/> (a stopped silo's, say) instead of a fresh one: a restart on its
    /// own disk, under a new address; <paramref name="orphanSweep"/> overrides the harness's one-second sweep, and
    /// <paramref name="stableName"/> names it (<see cref="VectorStoreSiloOptions.StableName"/>) as <c>silo --name</c> does.
    /// </summary>
    public async Task<InProcessSiloHandle> StartSiloOnAsync(string dataDirectory, TimeSpan? orphanSweep = null, string? stableName = null)
    {
        _next.Value = (dataDirectory, orphanSweep, stableName);
        try { return await Cluster.StartAdditionalSiloAsync(); }
        finally { _next.Value = default; }
    }

    /// <summary>The data directory of <paramref name="silo"/>.</summary>
    public static string DataDirectoryOf(InProcessSiloHandle silo) =>
        silo.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<VectorStoreSiloOptions>>().Value.DataDirectory;

    public static async Task<ClusterHarness> StartAsync(int silos)
    {
        var root = Path.Combine(Path.GetTempPath(), "vectorstore-cluster-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(root);
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.Options.ConfigureFileLogging = false;
        int incarnation = 0;
        var next = new System.Runtime.CompilerServices.StrongBox<(string? Directory, TimeSpan? Sweep, string? Name)>();
        builder.ConfigureSilo((options, silo) =>
        {
            // The test cluster reuses silo names after a kill, while the killed silo's database is still open in
            // this process: every incarnation gets its own directory, as a restarted process would own its own.
            var (reused, sweep, name) = next.Value;
            next.Value = default;
            string dataDirectory = reused ?? Path.Combine(root, $"{options.SiloName}-{Interlocked.Increment(ref incarnation)}");
            silo.AddVectorStoreCluster(o =>
            {
                o.DataDirectory = dataDirectory;
                o.MetadataDirectory = Path.Combine(root, "metadata");
                o.ReconcileInterval = TimeSpan.FromSeconds(2);
                o.CopyPageSize = 512;
                // Often, so every cluster test also checks that the sweep deletes nothing a layout still needs.
                o.OrphanSweepInterval = sweep ?? TimeSpan.FromSeconds(1);
                o.StableName = name;
            });
            // The test cluster sets every silo's Orleans name itself, after AddVectorStoreCluster: the stable name must win.
            if (name is not null) silo.Services.PostConfigure<SiloOptions>(o => o.SiloName = SiloIdentity.Prefix + name);
            silo.UseFastFailureDetection();
            silo.AddIncomingGrainCallFilter(SearchCallCounter.Filter);
            silo.AddIncomingGrainCallFilter(PushFaults.Filter);
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(30));
        });
        builder.ConfigureClient(client =>
        {
            client.AddVectorStoreClusterClient();
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(30));
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new ClusterHarness(cluster, root, next);
    }

    /// <summary>
    /// A coordinator; without options it waits up to a minute per shard, because the test machine is shared and a
    /// complete-result test must not turn partial just because another process hogged the cores.
    /// </summary>
    public DistributedDatabase Database(ClusterCoordinatorOptions? options = null) =>
        new(Grains, "default", options ?? new ClusterCoordinatorOptions { ShardTimeout = TimeSpan.FromSeconds(60) });

    public string[] SiloAddresses() => Cluster.Silos.Select(s => s.SiloAddress.ToParsableString()).ToArray();

    internal IShardReplicaGrain Copy(ClusterLayout layout, int shard, string silo) =>
        Grains.GetGrain<IShardReplicaGrain>(new ShardKey(silo, layout.Database, layout.Collection, shard).ToString());

    /// <summary>Polls <paramref name="condition"/> until it holds or <paramref name="timeout"/> passes.</summary>
    public static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            try
            {
                if (await condition()) return true;
            }
            catch (Exception) { /* the cluster is changing; ask again */ }
            await Task.Delay(200);
        }
        return false;
    }

    /// <summary>
    /// Kills every silo before disposing: a graceful stop waits for in-flight calls, and a layout grain configuring a
    /// copy on an already stopped silo waits out the response timeout. The data is thrown away anyway.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var silo in Cluster.Silos.ToArray())
        {
            try { await Cluster.KillSiloAsync(silo); }
            catch (Exception) { /* already stopping */ }
        }
        try { await Cluster.DisposeAsync(); }
        catch (Exception) { /* a killed silo may throw on shutdown */ }
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}
