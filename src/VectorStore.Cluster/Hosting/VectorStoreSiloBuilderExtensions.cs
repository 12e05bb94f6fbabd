using Orleans.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Hosting;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using VectorStore.Cluster.Shards;

namespace VectorStore.Cluster.Hosting;

/// <summary>Adds VectorStore shards, layouts and the membership watcher to an Orleans silo.</summary>
public static class VectorStoreSiloBuilderExtensions
{
    /// <summary>
    /// Grain directory cache entries of a VectorStore silo (<see cref="GrainDirectoryOptions.CacheSize"/>): the
    /// addresses of grains this silo called on other silos. A cluster has a few grains per shard copy and collection,
    /// so 100,000 leaves room for thousands of collections; Orleans' default (1,000,000) held 18.6 MB per silo.
    /// </summary>
    public const int DirectoryCacheSize = 100_000;

    /// <summary>
    /// Registers this silo's shard store (its own database directory), the pinned placement of shard copies, the
    /// membership watcher, the sweep of copies no layout gives the silo (OrphanCopySweep) and, when <see cref="VectorStoreSiloOptions.MetadataDirectory"/> is set, the file-based
    /// metadata storage. Also lowers Orleans' grain directory cache from its default of a million entries to
    /// <see cref="DirectoryCacheSize"/> unless the application set its own <see cref="GrainDirectoryOptions.CacheSize"/>.
    /// </summary>
    public static ISiloBuilder AddVectorStoreCluster(this ISiloBuilder builder, Action<VectorStoreSiloOptions> configure)
    {
        var services = builder.Services;
        services.Configure(configure);
        var probe = new VectorStoreSiloOptions();
        configure(probe);
        if (probe.OrphanSweepInterval <= TimeSpan.Zero && probe.OrphanSweepInterval != Timeout.InfiniteTimeSpan)
            throw new InvalidArgumentException($"VectorStoreSiloOptions.OrphanSweepInterval must be positive or Timeout.InfiniteTimeSpan (off), got {probe.OrphanSweepInterval}");
        if (probe.StableName is { } name)
        {
            SiloIdentity.Validate(name);
            services.Configure<SiloOptions>(o => o.SiloName = SiloIdentity.Prefix + name);
        }
        // Orleans sizes the cache's table for its capacity up front: two 9.3 MB arrays at the default, which a full
        // collection (the server's idle trim) compacts and so makes resident in every silo.
        services.Configure<GrainDirectoryOptions>(o =>
        {
            if (o.CacheSize == GrainDirectoryOptions.DEFAULT_CACHE_SIZE) o.CacheSize = DirectoryCacheSize;
        });
        services.AddSingleton<ShardStore>();
        services.AddSingleton<LocalShards>();
        services.AddPlacementDirector<PinnedPlacementStrategy, PinnedPlacementDirector>();
        services.AddSingleton<MembershipWatcher>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<MembershipWatcher>());
        services.AddSingleton<OrphanCopySweep>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<OrphanCopySweep>());
        if (probe.MetadataDirectory is { } dir)
            services.AddGrainStorage(ClusterStorage.Name, (_, _) => new FileGrainStorage(dir));
        AllowVectorStoreExceptions(services);
        return builder;
    }

    /// <summary>
    /// Clustering for silos that share a metadata directory (one machine, or a shared file system): the silo listens on
    /// 127.0.0.1 (<paramref name="siloPort"/> between silos, <paramref name="gatewayPort"/> for Orleans clients) and
    /// keeps Orleans' membership table in <c>membership.{clusterId}.json</c> there (<see cref="FileMembershipTable"/>),
    /// so no silo holds the table and any silo may die; unlike development clustering, where the primary's death
    /// takes membership down.
    /// </summary>
    public static ISiloBuilder UseFileMembership(this ISiloBuilder builder, string metadataDirectory, string clusterId, int siloPort, int gatewayPort)
    {
        ArgumentException.ThrowIfNullOrEmpty(metadataDirectory);
        ArgumentException.ThrowIfNullOrEmpty(clusterId);
        builder.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = clusterId;
            o.ServiceId = clusterId;
        });
        builder.Configure<EndpointOptions>(o =>
        {
            o.AdvertisedIPAddress = System.Net.IPAddress.Loopback;
            o.SiloPort = siloPort;
            o.GatewayPort = gatewayPort;
        });
        builder.Services.AddSingleton<IMembershipTable>(_ => new FileMembershipTable(metadataDirectory, clusterId));
        return builder;
    }

    /// <summary>
    /// Declares an unresponsive silo dead after about 3 s (2 missed 1 s probes, one vote) instead of Orleans' production
    /// settings (tens of seconds): for tests, demos and single-machine clusters, where a false suspicion is cheap.
    /// </summary>
    public static ISiloBuilder UseFastFailureDetection(this ISiloBuilder builder) =>
        builder.Configure<ClusterMembershipOptions>(o =>
        {
            o.ProbeTimeout = TimeSpan.FromSeconds(1);
            o.NumMissedProbesLimit = 2;
            o.NumVotesForDeathDeclaration = 1;
            o.TableRefreshTimeout = TimeSpan.FromSeconds(1);
            o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(2);
            o.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(10);
        });

    /// <summary>Lets the engine's typed errors (<c>VectorStore.*</c>) cross grain calls as themselves.</summary>
    internal static void AllowVectorStoreExceptions(IServiceCollection services) =>
        services.Configure<ExceptionSerializationOptions>(o =>
        {
            o.SupportedNamespacePrefixes.Add("VectorStore");
        });
}
